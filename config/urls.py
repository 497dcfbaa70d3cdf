from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("customers.urls")),
    path("", include("campaigns.urls")),
    path("", include("tracking.urls")),
    path("webhooks/anymail/", include("tracking.urls_webhooks")),
]
