"""anymail's tracking webhooks, hardened against the bodies ESPs (and others) really send.

anymail parses a whole body at once: a body that is not JSON, or one event of a batch without
a field it expects, raises inside the view and answers 500, and the valid events of the batch
are never dispatched. These views keep anymail's authentication (basic auth, Mailgun's HMAC)
and its per-event parsing, but parse event by event: a body that cannot be read answers 400,
the events that parse are dispatched, and the ones that do not are answered with a 400 that
names them (the ESP may retry; events already stored are deduplicated by their event id).

Mailgun: the event id is the ESP's own `event-data.id` (with the event's timestamp, as
Mailgun only keeps ids unique within a day), not the per-delivery signature token, so an event
re-delivered with a fresh signature is the same event.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from anymail.webhooks.mailgun import MailgunTrackingWebhookView
from anymail.webhooks.postmark import PostmarkTrackingWebhookView
from anymail.webhooks.sendgrid import SendGridTrackingWebhookView
from django.http import HttpRequest, HttpResponse, JsonResponse

logger = logging.getLogger(__name__)

# What anymail's per-event parsing raises on an event missing a field or of the wrong shape.
_EVENT_ERRORS = (KeyError, TypeError, ValueError, AttributeError, OverflowError)


class MalformedBody(ValueError):
    """The body is not the JSON the ESP documents."""


class _PerEventParsing:
    """Parse, dispatch and answer event by event (mixed into an anymail tracking view)."""

    # run_validators, esp_to_anymail_event, signal and esp_name come from the anymail view.

    def esp_events(self, request: HttpRequest) -> list[Any]:
        """The ESP's raw events in the body; raises MalformedBody."""
        raise NotImplementedError

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.run_validators(request)  # type: ignore[attr-defined]
        try:
            esp_events = self.esp_events(request)
        except MalformedBody as exc:
            logger.warning("%s webhook: unreadable body (%s)", self.esp_name, exc)
            return JsonResponse({"detail": str(exc)}, status=400)
        events, problems = [], []
        for index, esp_event in enumerate(esp_events):
            try:
                if not isinstance(esp_event, dict):
                    raise TypeError("an event must be a JSON object")
                events.append(self.esp_to_anymail_event(esp_event))  # type: ignore[attr-defined]
            except _EVENT_ERRORS as exc:
                problems.append({"index": index, "message": _problem(exc)})
        for event in events:
            self.signal.send(sender=self.__class__, event=event, esp_name=self.esp_name)  # type: ignore[attr-defined]
        if problems:
            logger.warning(
                "%s webhook: %d of %d events malformed and skipped", self.esp_name, len(problems), len(esp_events)
            )
            detail = f"{len(problems)} of {len(esp_events)} events could not be read; the others were stored."
            return JsonResponse({"detail": detail, "accepted": len(events), "errors": problems}, status=400)
        return HttpResponse()


def _problem(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"missing field {exc.args[0]!r}" if exc.args else "missing field"
    return str(exc) or type(exc).__name__


def _json_body(request: HttpRequest) -> Any:
    try:
        return json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise MalformedBody("Body is not valid JSON.") from None


class SendGridTrackingView(_PerEventParsing, SendGridTrackingWebhookView):
    def esp_events(self, request: HttpRequest) -> list[Any]:
        body = _json_body(request)
        if not isinstance(body, list):
            raise MalformedBody("Body must be a JSON list of events.")
        return body


class PostmarkTrackingView(_PerEventParsing, PostmarkTrackingWebhookView):
    def esp_events(self, request: HttpRequest) -> list[Any]:
        body = _json_body(request)
        if not isinstance(body, dict):
            raise MalformedBody("Body must be a JSON object (one event).")
        return [body]


class MailgunTrackingView(_PerEventParsing, MailgunTrackingWebhookView):
    def esp_events(self, request: HttpRequest) -> list[Any]:
        if request.content_type != "application/json":
            return [request.POST]  # the legacy form-encoded webhook
        body = _json_body(request)  # validated (signature block present) before this
        if not isinstance(body, dict) or not isinstance(body.get("event-data"), dict):
            raise MalformedBody('Body must be a JSON object with "event-data".')
        return [body]

    def esp_to_anymail_event(self, esp_event: Any) -> Any:
        if hasattr(esp_event, "getlist"):  # the QueryDict of a legacy webhook
            return self.mailgun_legacy_to_anymail_event(esp_event)
        event = super().esp_to_anymail_event(esp_event)
        data = esp_event["event-data"]
        if data.get("id"):
            event.event_id = f"{data['id']}:{data.get('timestamp', '')}"
        return event
