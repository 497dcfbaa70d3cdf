from __future__ import annotations

from django.http import HttpRequest
from ninja.security import HttpBearer

from customers.models import ApiKey
from customers.services.events.api_keys import api_key_authenticate


class ApiKeyAuth(HttpBearer):
    """`Authorization: Bearer <key>` with a key created in the admin or by `manage.py create_api_key`."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiKey | None:
        return api_key_authenticate(secret=token.strip())
