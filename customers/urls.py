from django.urls import URLPattern, URLResolver, path

from customers.api import api

urlpatterns: list[URLPattern | URLResolver] = [
    path("", api.urls),
]
