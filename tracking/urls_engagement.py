from django.urls import URLPattern, URLResolver, path

from tracking.views_engagement import click_redirect, open_pixel

urlpatterns: list[URLPattern | URLResolver] = [
    path("o/<str:token>.gif", open_pixel, name="open"),
    path("c/<str:token>", click_redirect, name="click"),
]
