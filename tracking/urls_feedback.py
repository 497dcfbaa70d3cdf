"""Unsubscribe page. anymail's ESP webhooks are mounted in config/urls.py under
/webhooks/anymail/ so that they keep anymail's own "anymail" URL namespace."""

from django.urls import URLPattern, URLResolver, path

from tracking.views_unsubscribe import unsubscribe

urlpatterns: list[URLPattern | URLResolver] = [
    path("u/<str:token>", unsubscribe, name="unsubscribe"),
]
