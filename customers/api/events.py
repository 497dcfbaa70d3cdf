"""POST /api/v1/events: the shop pushes batches of events."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja import Router

from customers.api.auth import ApiKeyAuth
from customers.api.errors import ApiError
from customers.api.rate_limit import rate_limit_retry_after
from customers.api.schemas import BatchOut, ErrorOut
from customers.services.events.dispatch import event_batch_ingest

router = Router(tags=["events"])

_REQUEST_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/EventBatch"}}},
    }
}


# The body, an event, its properties: a few levels. Far deeper is an attack or a bug, and
# would exhaust the recursion of the code that walks it later (validation, storage).
MAX_DEPTH = 32


def _depth_exceeds(data: Any, limit: int) -> bool:
    """Whether lists/objects nest deeper than `limit` levels (iterative: no recursion to exhaust)."""
    stack = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def _read_events(request: HttpRequest) -> list[Any]:
    limit = settings.EVENT_API_MAX_BODY_BYTES
    body = request.read(limit + 1)
    if len(body) > limit:
        raise ApiError(400, f"Body larger than {limit} bytes: send smaller batches.")
    try:
        data = json.loads(body)
    except RecursionError:
        raise ApiError(400, f"Body nests lists or objects deeper than {MAX_DEPTH} levels.") from None
    except ValueError:
        raise ApiError(400, 'Body is not valid JSON. Expected {"events": [...]}.') from None
    if _depth_exceeds(data, MAX_DEPTH):
        raise ApiError(400, f"Body nests lists or objects deeper than {MAX_DEPTH} levels.")
    if not isinstance(data, dict) or not isinstance(data.get("events"), list):
        raise ApiError(400, 'Body must be a JSON object with an "events" list.')
    events = data["events"]
    if len(events) > settings.API_MAX_BATCH:
        raise ApiError(400, f"Too many events: at most {settings.API_MAX_BATCH} per batch, got {len(events)}.")
    return events


@router.post(
    "/events",
    auth=ApiKeyAuth(),
    response={200: BatchOut, 400: ErrorOut, 401: ErrorOut, 429: ErrorOut},
    openapi_extra=_REQUEST_BODY,
    summary="Send a batch of shop events",
)
def post_events(request: HttpRequest) -> dict[str, Any]:
    """Each event is validated and stored on its own: the answer lists a result per event, in order.

    An event whose `id` was accepted before is reported as `duplicate` and changes nothing,
    so a batch can be retried safely. Rejected events are not stored and may be re-sent,
    corrected, with the same id.
    """
    api_key = request.auth  # type: ignore[attr-defined]
    retry_after = rate_limit_retry_after(bucket=api_key.prefix, limit=settings.EVENT_API_RATE_PER_MINUTE)
    if retry_after is not None:
        raise ApiError(429, "Rate limit exceeded for this API key.", headers={"Retry-After": str(retry_after)})
    events = _read_events(request)
    return event_batch_ingest(events=events, api_key=api_key).as_dict()
