from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, ValidationError

logger = logging.getLogger(__name__)


class ApiError(Exception):
    """An error answered as JSON `{"detail": ...}` with its status and headers."""

    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = headers or {}


def install_error_handlers(api: NinjaAPI) -> None:
    def api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
        response = api.create_response(request, {"detail": exc.detail}, status=exc.status)
        for name, value in exc.headers.items():
            response[name] = value
        return response

    def unauthorized(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        detail = "Missing, unknown or revoked API key. Send: Authorization: Bearer <key>"
        response = api.create_response(request, {"detail": detail}, status=401)
        response["WWW-Authenticate"] = "Bearer"
        return response

    def invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        return api.create_response(request, {"detail": "Invalid request", "errors": exc.errors}, status=400)

    def unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
        # Clients parse every answer as JSON; the traceback goes to the log, not to them.
        logger.error("event API request failed", exc_info=exc)
        detail = "Internal error (logged). Retry the batch: events already stored answer duplicate."
        return api.create_response(request, {"detail": detail}, status=500)

    api.add_exception_handler(Exception, unexpected)
    api.add_exception_handler(ApiError, api_error)
    api.add_exception_handler(AuthenticationError, unauthorized)
    api.add_exception_handler(ValidationError, invalid)
