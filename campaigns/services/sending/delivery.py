"""Sending a claimed batch: render, hand to the ESP over reused connections, record each outcome.

The ESP call waits on the network, so a batch is sent by a small thread pool
(settings.SEND_CONCURRENCY), each thread holding one open anymail connection for the whole
batch. Rendering and every database write happen in the calling thread; the pool threads
only talk to the ESP. Outcomes are recorded as they arrive, a few per short transaction
after the ESP call, so a crash loses as little knowledge as possible (see reconcile.py for
what it does lose).
"""

from __future__ import annotations

import logging
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import DatabaseError, transaction

from campaigns.models import Message, TemplateVersion
from campaigns.selectors.sending import messages_for_delivery
from campaigns.services.sending.claiming import messages_claim, messages_suppress_unmailable
from campaigns.services.sending.outcomes import (
    FAILED,
    RELEASED,
    RETRY,
    SENT,
    UNKNOWN,
    Outcome,
    outcome_from_error,
    outcome_from_status,
    outcome_record,
    outcomes_record_sent,
)
from campaigns.services.sending.ratelimit import send_slot_wait
from tracking.unsubscribe_links import list_unsubscribe_headers

logger = logging.getLogger(__name__)

# Outcomes are written in small groups: one commit per group instead of per message.
RECORD_CHUNK = 25


def message_version(*, message: Message) -> TemplateVersion | None:
    """The version planned with the message, else the step's current one (lifecycle rows)."""
    if message.template_version_id:
        return message.template_version
    if message.step_id and message.step.template.current_version_id:
        return message.step.template.current_version
    return None


def message_email_build(*, message: Message, prefetched: dict | None = None) -> EmailMultiAlternatives:
    """The email for one message: rendered parts, unsubscribe headers, metadata for webhooks.

    `prefetched`: context values loaded for the whole batch (recipients_context_prefetch);
    the message's own context (offer, cart…) wins over them.
    """
    from campaigns.rendering import message_render

    version = message_version(message=message)
    if version is None:
        raise ValueError("No template version to render.")
    message.template_version = version
    extra = {**(prefetched or {}), **(message.context or {})}
    rendered = message_render(version=version, customer=message.customer, message_id=message.pk, extra=extra or None)
    campaign = message.campaign
    email = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.customer.email],
        headers=list_unsubscribe_headers(message.pk, list_id=f"campaign-{campaign.pk}" if campaign else "messages"),
    )
    email.attach_alternative(rendered.html, "text/html")
    email.metadata = {"message_id": str(message.pk), "campaign_id": str(campaign.pk) if campaign else ""}
    email.tags = [campaign.kind if campaign else "test"]
    return email


@dataclass
class SenderPool:
    """Threads that each keep one ESP connection open until the pool closes."""

    concurrency: int
    deadline: float  # time.monotonic(): no ESP call starts after this (the claim is then in doubt)
    _local: threading.local = field(default_factory=threading.local)
    _connections: list = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=max(1, self.concurrency), thread_name_prefix="esp-send")

    def _connection(self):
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = get_connection()
            connection.open()
            self._local.connection = connection
            with self._lock:
                self._connections.append(connection)
        return connection

    def _deliver(self, email: EmailMultiAlternatives) -> Outcome:
        try:
            if time.monotonic() > self.deadline or not send_slot_wait(deadline=self.deadline):
                return Outcome(RELEASED, error="Claim expired before the ESP was called.")
        except Exception as exc:  # the rate limiter failed (Redis down): the ESP was not called
            return Outcome(RELEASED, error=f"Rate limiter: {type(exc).__name__}")
        try:
            self._connection().send_messages([email])
        except Exception as exc:  # every failure is classified; none may escape unrecorded
            return outcome_from_error(exc)
        return outcome_from_status(email)

    def submit(self, email: EmailMultiAlternatives, *, on_done: Callable[[Outcome], None]) -> None:
        def finished(future: Future[Outcome]) -> None:
            try:
                outcome = future.result()
            except BaseException as exc:  # noqa: BLE001 - the caller waits for exactly one outcome per email
                outcome = Outcome(UNKNOWN, error=f"{type(exc).__name__}: {exc}")
            on_done(outcome)

        self._executor.submit(self._deliver, email).add_done_callback(finished)

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        connections, self._connections = self._connections, []
        for connection in connections:
            try:
                connection.close()
            except Exception:  # noqa: S110 - closing a dead connection must not hide the batch result
                pass

    def __enter__(self) -> SenderPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextmanager
def _responsive_threads() -> Iterator[None]:
    """While this thread renders (CPU), the sender threads wake on ESP answers and need the GIL;
    with the default 5 ms switch interval each wake-up queues behind the renderer (a GIL convoy,
    measured at about 40 % fewer messages per second). A shorter interval for the batch fixes it."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(min(previous, settings.SEND_SWITCH_INTERVAL_MS / 1000))
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


def _batch_context(messages: list[Message]) -> dict[int, dict]:
    """Per message id, the order/product context its template reads, loaded once per version."""
    from campaigns.templating.prefetch import recipients_context_prefetch

    by_version: dict[int, tuple[TemplateVersion, list[Message]]] = {}
    for message in messages:
        version = message_version(message=message)
        if version is not None:
            by_version.setdefault(version.pk, (version, []))[1].append(message)
    context: dict[int, dict] = {}
    for version, group in by_version.values():
        loaded = recipients_context_prefetch(version=version, customers=[m.customer for m in group])
        for message in group:
            context[message.pk] = loaded.get(message.customer_id, {})
    return context


def message_send_batch(*, batch_size: int | None = None, stop_at: float | None = None) -> dict[str, int]:
    """Claim one batch and send it. Returns counts by outcome ({} when there was nothing to claim).

    stop_at (time.monotonic()): no ESP call starts after it; unstarted rows go back to the queue.
    """
    claim = messages_claim(batch_size=batch_size or settings.SEND_BATCH_SIZE)
    if claim is None:
        return {}
    token, _claimed_at = claim
    messages = list(messages_for_delivery(claim_token=token))
    counts: dict[str, int] = {"claimed": len(messages)}
    mailable = messages_suppress_unmailable(claim_token=token, customer_ids=[m.customer_id for m in messages])
    counts["suppressed"] = sum(1 for m in messages if m.customer_id not in mailable)
    messages = [m for m in messages if m.customer_id in mailable]
    results: queue.SimpleQueue[tuple[Message, str, Outcome]] = queue.SimpleQueue()
    submitted = 0
    # Half the stuck timeout: reconcile can only find a row in doubt once no ESP call can still start.
    deadline = time.monotonic() + settings.SEND_STUCK_AFTER_SECONDS / 2
    if stop_at is not None:
        deadline = min(deadline, stop_at)
    with _responsive_threads(), SenderPool(concurrency=settings.SEND_CONCURRENCY, deadline=deadline) as pool:
        try:
            prefetched = _batch_context(messages)
            for message in messages:
                try:
                    email = message_email_build(message=message, prefetched=prefetched.get(message.pk))
                except SoftTimeLimitExceeded:
                    raise
                except DatabaseError as exc:  # a passing database fault: nothing was sent, retry with backoff
                    results.put((message, "", Outcome(RETRY, error=f"Render: {type(exc).__name__}")))
                    submitted += 1
                    continue
                except Exception as exc:  # a template that cannot render: nothing was sent
                    logger.warning("message %s not rendered (%s)", message.pk, type(exc).__name__)
                    results.put((message, "", Outcome(FAILED, error=f"Render: {exc}")))
                    submitted += 1
                    continue
                pool.submit(email, on_done=lambda outcome, m=message, s=email.subject: results.put((m, s, outcome)))
                submitted += 1
                if results.qsize() >= RECORD_CHUNK:
                    submitted -= _record(results, token=token, counts=counts, wait_for=0)
            while submitted:
                submitted -= _record(results, token=token, counts=counts, wait_for=1)
        except BaseException:
            # Stopped mid-batch (time limit, database fault): start no more ESP calls, let the ones
            # in flight finish, and record every outcome that is known, so that only rows whose
            # answer never came are left for reconcile.
            pool.deadline = 0.0
            pool.close()
            _record_what_arrived(results, token=token, counts=counts)
            raise
    return counts


def _record_what_arrived(
    results: queue.SimpleQueue[tuple[Message, str, Outcome]], *, token: str, counts: dict[str, int]
) -> None:
    try:
        while not results.empty():
            _record(results, token=token, counts=counts, wait_for=0)
    except Exception:  # the database itself may be the fault: reconcile settles what is left
        logger.exception("outcomes of an interrupted batch could not all be recorded")


def _record(
    results: queue.SimpleQueue[tuple[Message, str, Outcome]], *, token: str, counts: dict[str, int], wait_for: int
) -> int:
    """Record the outcomes that have arrived (blocking for at least `wait_for`) in one short transaction."""
    done = [results.get() for _ in range(wait_for)]
    while len(done) < RECORD_CHUNK:
        try:
            done.append(results.get_nowait())
        except queue.Empty:
            break
    sent = [item for item in done if item[2].kind == SENT]
    with transaction.atomic():
        if sent:
            outcomes_record_sent(sent=sent, claim_token=token)
        for message, subject, outcome in done:
            if outcome.kind != SENT:
                outcome_record(message=message, claim_token=token, outcome=outcome, subject=subject)
    for _message, _subject, outcome in done:
        counts[outcome.kind] = counts.get(outcome.kind, 0) + 1
    return len(done)


def messages_send_due(*, budget_seconds: float | None = None, batch_size: int | None = None) -> dict[str, int]:
    """Send batches until nothing is due or the time budget is spent. Returns summed counts."""
    budget = settings.SEND_TASK_BUDGET_SECONDS if budget_seconds is None else budget_seconds
    stop_at = time.monotonic() + budget
    totals: dict[str, int] = {}
    while time.monotonic() < stop_at:
        counts = message_send_batch(batch_size=batch_size, stop_at=stop_at)
        if not counts:
            break
        for key, value in counts.items():
            totals[key] = totals.get(key, 0) + value
    return totals
