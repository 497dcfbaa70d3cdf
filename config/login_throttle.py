"""django-axes wiring: the client address it counts failures by, logins without a request, the lockout page.

Axes' backend refuses to authenticate without an HTTP request. Logins from code (scripts, the
test client's login()) have no client to throttle, so they pass on to the next backend;
every login over HTTP (the admin login page) carries its request and is throttled.
"""

from __future__ import annotations

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse


class LoginThrottleBackend(AxesStandaloneBackend):
    def authenticate(self, request: HttpRequest | None, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def client_ip(request: HttpRequest) -> str:
    """REMOTE_ADDR, or the address LOGIN_PROXY_HOPS trusted proxies saw (X-Forwarded-For)."""
    hops = settings.LOGIN_PROXY_HOPS
    if hops > 0:
        forwarded = [part.strip() for part in request.headers.get("X-Forwarded-For", "").split(",") if part.strip()]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return request.META.get("REMOTE_ADDR", "")


def lockout_response(request: HttpRequest, original_response=None, credentials: dict | None = None) -> HttpResponse:
    """The page a locked-out login gets, in the admin's own look (HTTP 429)."""
    minutes = settings.AXES_COOLOFF_TIME.total_seconds() / 60
    context = {
        **admin.site.each_context(request),
        "title": "Too many failed logins",
        "cooloff": f"{minutes:g} minute{'s' if minutes != 1 else ''}",
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "login_url": reverse("admin:login"),
    }
    return render(request, "admin/login_locked_out.html", context, status=429)
