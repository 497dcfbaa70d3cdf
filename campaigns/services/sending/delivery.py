"""Sending a claimed batch: render, hand to the ESP over reused connections, record each outcome.

The ESP call waits on the network, so batches are sent by a small thread pool
(settings.SEND_CONCURRENCY), each thread holding one open anymail connection for the whole
task run (one TLS handshake per thread, not per batch). Rendering and every database write
happen in the calling thread; the pool threads only talk to the ESP. Outcomes are recorded
as they arrive, a few per short transaction after the ESP call, so a crash loses as little
knowledge as possible (see reconcile.py for what it does lose).
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
from django.db import DatabaseError, connection, transaction

from campaigns.models import Message, TemplateVersion
from campaigns.selectors.sending import messages_for_delivery
from campaigns.services.sending.claiming import (
    messages_claim,
    messages_release_claim,
    messages_skip_exited,
    messages_suppress_unmailable,
)
from campaigns.services.sending.esp_lookup import esp_lookup_available
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
    stopped: bool = False  # set when the caller gives up: no further ESP call starts
    _local: threading.local = field(default_factory=threading.local)
    _connections: list = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=max(1, self.concurrency), thread_name_prefix="esp-send")

    def _connection(self):
        esp_connection = getattr(self._local, "connection", None)
        if esp_connection is None:
            esp_connection = get_connection()
            esp_connection.open()
            self._local.connection = esp_connection
            with self._lock:
                self._connections.append(esp_connection)
        return esp_connection

    def _deliver(self, email: EmailMultiAlternatives, deadline: float) -> Outcome:
        """`deadline` (time.monotonic()): no ESP call starts after it (the claim would be in doubt)."""
        try:
            if self.stopped or time.monotonic() > deadline or not send_slot_wait(deadline=deadline):
                return Outcome(RELEASED, error="Claim expired before the ESP was called.")
            if self.stopped:  # the caller gave up while this thread waited for a rate-limit slot
                return Outcome(RELEASED, error="Sending stopped before the ESP was called.")
        except Exception as exc:  # the rate limiter failed (Redis down): the ESP was not called
            return Outcome(RELEASED, error=f"Rate limiter: {type(exc).__name__}")
        try:
            self._connection().send_messages([email])
        except Exception as exc:  # every failure is classified; none may escape unrecorded
            return outcome_from_error(exc)
        return outcome_from_status(email)

    def submit(self, email: EmailMultiAlternatives, *, deadline: float, on_done: Callable[[Outcome], None]) -> None:
        def finished(future: Future[Outcome]) -> None:
            try:
                outcome = future.result()
            except BaseException as exc:  # noqa: BLE001 - the caller waits for exactly one outcome per email
                outcome = Outcome(UNKNOWN, error=f"{type(exc).__name__}: {exc}")
            on_done(outcome)

        self._executor.submit(self._deliver, email, deadline).add_done_callback(finished)

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        connections, self._connections = self._connections, []
        for esp_connection in connections:
            try:
                esp_connection.close()
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


class _Outcomes:
    """Outcomes coming back from the sender threads, recorded a chunk per short transaction."""

    def __init__(self) -> None:
        self.arrived: queue.SimpleQueue[tuple[Message, str, Outcome, str]] = queue.SimpleQueue()
        self.pending = 0  # handed over (to the pool, or failed before it) and not yet recorded
        self.counts: dict[str, int] = {}
        self._taken: list[tuple[Message, str, Outcome, str]] = []  # off the queue, not yet written

    def add(self, message: Message, subject: str, outcome: Outcome, token: str) -> None:
        self.arrived.put((message, subject, outcome, token))

    def expect(self, message: Message, token: str, subject: str = "") -> Callable[[Outcome], None]:
        """The callback that records the outcome of one message (sent with `subject`)."""
        self.pending += 1
        return lambda outcome: self.add(message, subject, outcome, token)

    def record_ready(self) -> None:
        if self.arrived.qsize() >= RECORD_CHUNK:
            self.record(wait_for=0)

    def wait_until(self, pending: int) -> None:
        """Record arriving outcomes until at most `pending` are outstanding (they arrive a few
        milliseconds apart, so wait for full chunks)."""
        while self.pending > pending:
            self.record(wait_for=min(self.pending - pending, RECORD_CHUNK))

    def record(self, *, wait_for: int) -> None:
        """Record what has arrived (blocking for at least `wait_for`) in one short transaction."""
        # Kept on self while waiting: a time limit raised in get() must not lose those taken.
        while len(self._taken) < wait_for:
            self._taken.append(self.arrived.get())
        while len(self._taken) < RECORD_CHUNK:
            try:
                self._taken.append(self.arrived.get_nowait())
            except queue.Empty:
                break
        done, self._taken = self._taken, []
        try:
            self._write(done)
        except BaseException:  # kept for record_what_arrived: known outcomes are not dropped
            self._taken = done + self._taken
            raise
        self.pending -= len(done)
        for *_rest, outcome, _token in done:
            self.counts[outcome.kind] = self.counts.get(outcome.kind, 0) + 1

    @staticmethod
    def _write(done: list[tuple[Message, str, Outcome, str]]) -> None:
        sent: dict[str, list[tuple[Message, str, Outcome]]] = {}
        with transaction.atomic():
            all_sent = all(outcome.kind == SENT for _m, _s, outcome, _t in done)
            if all_sent and connection.vendor == "postgresql" and esp_lookup_available():
                # No wait for the WAL flush: a commit lost in a database crash leaves its rows
                # claimed, exactly as a worker crash does, and reconcile settles them by asking
                # the ESP. Without that lookup, and for any chunk holding a refusal (whose
                # suppression must not be lost), the commit is durable.
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL synchronous_commit TO OFF")
            for message, subject, outcome, token in done:
                if outcome.kind == SENT:
                    sent.setdefault(token, []).append((message, subject, outcome))
                else:
                    outcome_record(message=message, claim_token=token, outcome=outcome, subject=subject)
            for token, items in sent.items():
                outcomes_record_sent(sent=items, claim_token=token)

    def record_what_arrived(self) -> None:
        try:
            while self._taken or not self.arrived.empty():
                self.record(wait_for=0)
        except Exception:  # the database itself may be the fault: reconcile settles what is left
            logger.exception("outcomes of an interrupted batch could not all be recorded")


def _batch_submit(
    pool: SenderPool, outcomes: _Outcomes, *, batch_size: int | None, stop_at: float | None
) -> dict[str, int] | None:
    """Claim one batch, render it and hand it to the pool; None when nothing was due."""
    claim = messages_claim(batch_size=batch_size or settings.SEND_BATCH_SIZE)
    if claim is None:
        return None
    token, _claimed_at = claim
    try:
        messages = list(messages_for_delivery(claim_token=token))
        mailable = messages_suppress_unmailable(claim_token=token, customer_ids=[m.customer_id for m in messages])
        counts: dict[str, int] = {"claimed": len(messages)}
        counts["suppressed"] = sum(1 for m in messages if m.customer_id not in mailable)
        messages = [m for m in messages if m.customer_id in mailable]
        exited = messages_skip_exited(claim_token=token)
        if exited:
            counts["skipped"] = len(exited)
            messages = [m for m in messages if m.pk not in exited]
        # Half the stuck timeout: reconcile can only find a row in doubt once no ESP call can still start.
        deadline = time.monotonic() + settings.SEND_STUCK_AFTER_SECONDS / 2
        if stop_at is not None:
            deadline = min(deadline, stop_at)
        rendering, handed = -1, -1  # positions in `messages`: being rendered, last handed over
    except BaseException:
        messages_release_claim(claim_token=token)  # nothing was handed over yet: all of it goes back
        raise
    try:
        prefetched = _batch_context(messages)
        for index, message in enumerate(messages):
            rendering = index
            try:
                email = message_email_build(message=message, prefetched=prefetched.get(message.pk))
            except SoftTimeLimitExceeded:
                raise
            except DatabaseError as exc:  # a passing database fault: nothing was sent, retry with backoff
                outcomes.expect(message, token)(Outcome(RETRY, error=f"Render: {type(exc).__name__}"))
                handed = index  # a release after this outcome finds the row no longer 'sending'
                continue
            except Exception as exc:  # a template that cannot render: nothing was sent
                logger.warning("message %s not rendered (%s)", message.pk, type(exc).__name__)
                outcomes.expect(message, token)(Outcome(FAILED, error=f"Render: {exc}"))
                handed = index
                continue
            handed = index  # from here the pool may have it: never released below
            pool.submit(email, deadline=deadline, on_done=outcomes.expect(message, token, email.subject))
            outcomes.record_ready()
    except BaseException:
        # Stopped while rendering: rows claimed but never handed over go back to the queue now
        # rather than waiting for reconcile (the one being handed over, if any, is left to it).
        untouched = rendering if rendering > handed else handed + 1
        for message in messages[untouched:]:
            outcomes.expect(message, token)(Outcome(RELEASED, error="Sending stopped before the ESP was called."))
        raise
    return counts


@contextmanager
def _sending(pool: SenderPool) -> Iterator[_Outcomes]:
    """Record every outcome; when stopped early (time limit, database fault) start no more ESP
    calls, let the ones in flight finish and record every outcome that is known, so that only
    rows whose answer never came are left for reconcile."""
    outcomes = _Outcomes()
    with _responsive_threads():
        try:
            yield outcomes
            outcomes.wait_until(0)
        except BaseException:
            pool.stopped = True
            # Recorded before and after waiting for the calls in flight: if the hard time limit
            # ends the process during that wait, what had already arrived is not lost.
            outcomes.record_what_arrived()
            pool.close()
            outcomes.record_what_arrived()
            raise


def _merged(*parts: dict[str, int]) -> dict[str, int]:
    total: dict[str, int] = {}
    for part in parts:
        for key, value in part.items():
            total[key] = total.get(key, 0) + value
    return total


def message_send_batch(
    *, batch_size: int | None = None, stop_at: float | None = None, pool: SenderPool | None = None
) -> dict[str, int]:
    """Claim one batch and send it. Returns counts by outcome ({} when there was nothing to claim).

    stop_at (time.monotonic()): no ESP call starts after it; unstarted rows go back to the queue.
    pool: sender threads to use; without one, the batch opens and closes its own.
    """
    if pool is None:
        with SenderPool(concurrency=settings.SEND_CONCURRENCY) as own:
            return message_send_batch(batch_size=batch_size, stop_at=stop_at, pool=own)
    with _sending(pool) as outcomes:
        started = _batch_submit(pool, outcomes, batch_size=batch_size, stop_at=stop_at)
    return {} if started is None else _merged(started, outcomes.counts)


def messages_send_due(*, budget_seconds: float | None = None, batch_size: int | None = None) -> dict[str, int]:
    """Send batches until nothing is due or the time budget is spent. Returns summed counts.

    Batches overlap: the next one is claimed and rendered while the last emails of the previous
    one are still with the ESP, so the sender threads never wait for a claim.
    """
    budget = settings.SEND_TASK_BUDGET_SECONDS if budget_seconds is None else budget_seconds
    stop_at = time.monotonic() + budget
    size = batch_size or settings.SEND_BATCH_SIZE
    low_water = max(2 * settings.SEND_CONCURRENCY, size // 4)
    started: list[dict[str, int]] = []
    with SenderPool(concurrency=settings.SEND_CONCURRENCY) as pool, _sending(pool) as outcomes:
        while time.monotonic() < stop_at:
            counts = _batch_submit(pool, outcomes, batch_size=size, stop_at=stop_at)
            if counts is None:
                break
            started.append(counts)
            outcomes.wait_until(low_water)
    return _merged(*started, outcomes.counts) if started else {}
