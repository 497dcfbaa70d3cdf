"""The public unsubscribe page: GET confirms, POST (button or RFC 8058 one-click) acts.

The signed token is the proof of who is asking, so unsubscribing is CSRF-exempt: mail
clients send the RFC 8058 one-click POST without any token or cookie. Resubscribing is the
opposite: it restarts mail, so it needs the CSRF token of the page's own button, and a
forged cross-site POST is refused (403). A bad token, for GET or POST, gets the same neutral
404 page.
"""

from __future__ import annotations

from email.utils import parseaddr

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods

from campaigns.models import Message
from tracking.services.feedback import (
    SubscriptionState,
    message_resubscribe,
    message_unsubscribe,
    subscription_state,
    unsubscribe_message_from_token,
)

_FORM_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data"}
_ONE_CLICK_BODY = b"List-Unsubscribe=One-Click"


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    message = unsubscribe_message_from_token(token=token)
    if message is None:
        return _page(request, "tracking/unsubscribe/invalid.html", {}, status=404)

    if request.method == "POST" and request.POST.get("action") == "resubscribe":
        return _resubscribe(request, message)
    if request.method != "POST":
        return _state_page(request, message, just_changed="")
    one_click = _is_one_click(request)
    message_unsubscribe(message=message, one_click=one_click)
    # A mail client's one-click POST gets no resubscribe form, and so no CSRF cookie.
    return _state_page(request, message, just_changed="unsubscribed", offer_resubscribe=not one_click)


@csrf_protect
def _resubscribe(request: HttpRequest, message: Message) -> HttpResponse:
    state = message_resubscribe(message=message)
    return _state_page(request, message, just_changed="resubscribed" if state == SubscriptionState.SUBSCRIBED else "")


def _state_page(
    request: HttpRequest, message: Message, *, just_changed: str, offer_resubscribe: bool = True
) -> HttpResponse:
    state = subscription_state(message=message)
    context = {
        "state": state.value,
        "offer_resubscribe": offer_resubscribe,
        "just_changed": just_changed,
        "masked_email": mask_email(message.customer.email),
        "action_url": request.path,
    }
    return _page(request, "tracking/unsubscribe/page.html", context)


def mask_email(email: str) -> str:
    """j***@example.com: enough for the recipient to recognise, little for anyone else."""
    local, _, domain = email.partition("@")
    if not domain:
        return "***"
    return f"{local[:1]}***@{domain}"


def _is_one_click(request: HttpRequest) -> bool:
    if request.POST.get("List-Unsubscribe") == "One-Click":
        return True
    if request.content_type not in _FORM_TYPES:
        return request.body.strip() == _ONE_CLICK_BODY
    return False


def _page(request: HttpRequest, template: str, context: dict, *, status: int = 200) -> HttpResponse:
    context = {
        **context,
        "brand_name": getattr(settings, "BRAND_NAME", "") or parseaddr(settings.DEFAULT_FROM_EMAIL)[0] or "Our shop",
        "postal_address": getattr(settings, "SENDER_POSTAL_ADDRESS", ""),
    }
    response = render(request, template, context, status=status)
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    # Not no-referrer: Chromium then posts the page's own forms with "Origin: null", which the
    # CSRF check of the resubscribe button refuses. same-origin still tells other sites nothing.
    response["Referrer-Policy"] = "same-origin"
    return response
