"""System checks for ESP webhook security."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register


@register(Tags.security)
def check_webhook_security(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    anymail = getattr(settings, "ANYMAIL", {}) or {}
    messages: list[CheckMessage] = []
    if getattr(settings, "APP_ENV", "") == "production" and not anymail.get("WEBHOOK_SECRET"):
        messages.append(
            Error(
                "ESP webhooks are open to anyone: ANYMAIL_WEBHOOK_SECRET is not set.",
                hint="Set ANYMAIL_WEBHOOK_SECRET to 'user:password' and use it as basic auth in the ESP's webhook URL.",
                id="tracking.E001",
            )
        )
    if "mailgun" in getattr(settings, "EMAIL_BACKEND", "").lower() and not anymail.get("MAILGUN_WEBHOOK_SIGNING_KEY"):
        messages.append(
            Warning(
                "Mailgun webhooks cannot be verified: MAILGUN_WEBHOOK_SIGNING_KEY is not set.",
                hint="Copy the webhook signing key from Mailgun's dashboard into MAILGUN_WEBHOOK_SIGNING_KEY.",
                id="tracking.W002",
            )
        )
    return messages
