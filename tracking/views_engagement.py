"""Open pixel and click redirect: verify the token, hand the hit to the buffer, answer.

Nothing here waits on judging the hit; a bad token never raises. The open pixel is returned
for any token (only a valid one is recorded); a bad click token gets a 404 and never a
redirect.
"""

from __future__ import annotations

import base64

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound, HttpResponseRedirect
from django.views.decorators.http import require_safe

from tracking.link_rewriting import CLICK_PURPOSE, HONEYPOT_PURPOSE, OPEN_PURPOSE
from tracking.selectors.tracked_urls import tracked_url_target
from tracking.services.tracking_events import hit_build, hit_record
from tracking.tokens import read_token
from tracking.verdicts import CLICK, OPEN, network_of

PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
_NOT_FOUND = (
    "<!doctype html><html><head><meta charset='utf-8'><meta name='robots' content='noindex'>"
    "<title>Link not valid</title></head><body><h1>This link is not valid</h1>"
    "<p>It may have been copied incompletely.</p></body></html>"
)


def _private(response: HttpResponse) -> HttpResponse:
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "no-store, max-age=0"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _client_ip(request: HttpRequest) -> str:
    hops = settings.TRACKING_PROXY_HOPS
    if hops > 0:
        forwarded = [part.strip() for part in request.headers.get("X-Forwarded-For", "").split(",") if part.strip()]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return request.META.get("REMOTE_ADDR", "")


def _record(
    request: HttpRequest, *, kind: str, message_id: int, url_id: int | None = None, honeypot: bool = False
) -> None:
    ip = _client_ip(request)
    hit_record(
        hit=hit_build(
            kind=kind,
            message_id=message_id,
            method=request.method or "GET",
            user_agent=request.headers.get("User-Agent", ""),
            ip=ip,
            network=network_of(ip),
            url_id=url_id,
            honeypot=honeypot,
        )
    )


@require_safe
def open_pixel(request: HttpRequest, token: str) -> HttpResponse:
    values = read_token(OPEN_PURPOSE, token, arity=1)
    if values is not None:
        _record(request, kind=OPEN, message_id=values[0])
    return _private(HttpResponse(PIXEL, content_type="image/gif"))


@require_safe
def click_redirect(request: HttpRequest, token: str) -> HttpResponse:
    values = read_token(CLICK_PURPOSE, token, arity=2)
    if values is not None:
        target = tracked_url_target(url_id=values[1])
        if target is None:
            return _private(HttpResponseNotFound(_NOT_FOUND))
        _record(request, kind=CLICK, message_id=values[0], url_id=values[1])
        return _private(HttpResponseRedirect(target))
    trap = read_token(HONEYPOT_PURPOSE, token, arity=1)
    if trap is not None:
        _record(request, kind=CLICK, message_id=trap[0], honeypot=True)
        return _private(HttpResponse("", content_type="text/plain"))
    return _private(HttpResponseNotFound(_NOT_FOUND))
