"""Per-recipient rendering of a template version: subject, preheader, HTML and plain text.

This runs once per recipient on the send path, so the expensive parts are done once per
version: MJML is compiled when the version is saved (TemplateVersion.compiled_html) and the
Django templates are parsed once per process (campaigns.templating.engine). What is left per
recipient is a template render, link tracking and the render of the plain-text template
derived from the compiled HTML (campaigns.templating.text).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.template import Context

from campaigns.models import TemplateVersion
from campaigns.templating.context import recipient_context
from campaigns.templating.engine import ParsedVersion, parsed_version_get
from campaigns.templating.text import html_to_text, text_tidy
from customers.models import Customer
from tracking.link_rewriting import html_add_tracking
from tracking.unsubscribe_links import unsubscribe_url

PREVIEW_UNSUBSCRIBE_URL_PATH = "/#unsubscribe-preview"


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    preheader: str
    html: str
    text: str


def preview_unsubscribe_url() -> str:
    """Where the unsubscribe link points in previews and tests: the site, never a real token."""
    return f"{settings.SITE_URL}{PREVIEW_UNSUBSCRIBE_URL_PATH}"


def _one_line(value: str) -> str:
    return " ".join(value.split())


def parsed_render(
    parsed: ParsedVersion, *, customer: Customer, message_id: int | None, extra: dict[str, Any] | None
) -> RenderedEmail:
    """Render already-parsed templates for one recipient (used for saved versions and live previews)."""
    link = unsubscribe_url(message_id) if message_id is not None else preview_unsubscribe_url()
    values = recipient_context(customer=customer, unsubscribe_url=link, message_id=message_id, extra=extra)
    # Subject and preheader are plain text (a header, a hidden line): no HTML escaping there.
    subject = _one_line(parsed.subject.render(Context(values, autoescape=False)))
    preheader = _one_line(parsed.preheader.render(Context(values, autoescape=False)))
    html = parsed.html.render(Context({**values, "subject": subject, "preheader": preheader}, autoescape=True))
    if message_id is not None:
        html = html_add_tracking(html, message_id=message_id)
    if parsed.text is not None:
        text = text_tidy(
            parsed.text.render(Context({**values, "subject": subject, "preheader": preheader}, autoescape=False))
        )
    else:
        text = html_to_text(html)
    return RenderedEmail(subject=subject, preheader=preheader, html=html, text=text)


def message_render(
    *,
    version: TemplateVersion,
    customer: Customer,
    message_id: int | None = None,
    extra: dict[str, Any] | None = None,
) -> RenderedEmail:
    """Render `version` for `customer`.

    message_id: the Message being sent; its signed unsubscribe link goes in the email and links
    are rewritten for click tracking. None for previews and tests: a harmless link, no tracking.
    extra: per-message context (offer, cart, precomputed products…) merged over the defaults.
    """
    parsed = parsed_version_get(
        version_id=version.pk,
        subject=version.subject,
        preheader=version.preheader,
        compiled_html=version.compiled_html,
    )
    return parsed_render(parsed, customer=customer, message_id=message_id, extra=extra)
