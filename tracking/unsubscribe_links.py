"""Unsubscribe URLs and the List-Unsubscribe headers every marketing message carries."""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings
from django.urls import reverse

from tracking.tokens import make_token

UNSUBSCRIBE_PURPOSE = "unsubscribe"


def unsubscribe_token(message_id: int) -> str:
    return make_token(UNSUBSCRIBE_PURPOSE, message_id)


@lru_cache(maxsize=1)
def _path_template(_urlconf: str) -> str:
    """The unsubscribe path with a placeholder: reverse() once, not for every message."""
    return reverse("tracking:unsubscribe", kwargs={"token": "TOKEN"})


def unsubscribe_url(message_id: int) -> str:
    path = _path_template(settings.ROOT_URLCONF).replace("TOKEN", unsubscribe_token(message_id))
    return f"{settings.SITE_URL}{path}"


def list_unsubscribe_headers(message_id: int, *, list_id: str) -> dict[str, str]:
    """RFC 2369 / RFC 8058 headers: https first, then mailto; one-click POST."""
    mailto = f"mailto:{settings.UNSUBSCRIBE_MAILTO}?subject=unsubscribe-{unsubscribe_token(message_id)}"
    return {
        "List-Unsubscribe": f"<{unsubscribe_url(message_id)}>, <{mailto}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "List-Id": f"<{list_id}.{settings.LIST_ID_DOMAIN}>",
    }
