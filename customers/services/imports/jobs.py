"""Background CSV imports: the admin stores the upload and queues a job; the worker runs the importer.

The upload request only checks the header and saves the file, so a file of any size answers at
once. The worker runs the same import as the commands (chunked writes, row-by-row fallback),
writing progress and the failed rows (line, reason, the row as it stood) as it goes. The upload
is deleted when the job ends; finished jobs and their reports are pruned after
IMPORT_JOB_KEEP_DAYS, since failed rows hold personal data.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from collections.abc import Callable
from functools import partial

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from customers.models import ImportFailure, ImportJob, ImportKind, ImportStatus
from customers.services.imports.csv_rows import ImportAborted, csv_header_check
from customers.services.imports.customers_import import COLUMNS as CUSTOMER_COLUMNS
from customers.services.imports.customers_import import REQUIRED as CUSTOMER_REQUIRED
from customers.services.imports.customers_import import customers_import
from customers.services.imports.orders_import import COLUMNS as ORDER_COLUMNS
from customers.services.imports.orders_import import ONE_OF as ORDER_ONE_OF
from customers.services.imports.orders_import import REQUIRED as ORDER_REQUIRED
from customers.services.imports.orders_import import orders_import
from customers.services.imports.runner import ImportReport, RowFailure

logger = logging.getLogger(__name__)

PROGRESS_EVERY_SECONDS = 0.5
FAILURES_BATCH = 500
_HEADER_RULES = {
    ImportKind.CUSTOMERS: {"required": CUSTOMER_REQUIRED, "known": CUSTOMER_COLUMNS},
    ImportKind.ORDERS: {"required": ORDER_REQUIRED, "known": ORDER_COLUMNS, "one_of": ORDER_ONE_OF},
}


def import_job_create(*, kind: str, upload: UploadedFile, user: AbstractBaseUser) -> ImportJob:
    """Check the header, store the file and queue its import. Raises ImportAborted for a file
    that cannot be imported at all (missing or repeated column, empty, not UTF-8)."""
    kind = ImportKind(kind)
    upload.seek(0)
    csv_header_check(upload, **_HEADER_RULES[kind])
    upload.seek(0)
    _prune()
    job = ImportJob(kind=kind, source_name=(upload.name or "").rsplit("/", 1)[-1][:100], created_by=user)
    # The stored name says nothing about the file (its name may hold personal data).
    job.file.save(f"{uuid.uuid4().hex}.csv", upload, save=False)
    job.save()
    from customers.tasks import import_run

    transaction.on_commit(partial(import_run.delay, job.pk))
    return job


def import_job_run(*, job_id: int) -> ImportJob | None:
    """Run a queued job (or one left running by a worker that died). None if there is nothing to run."""
    job = _claim(job_id)
    if job is None:
        return None
    progress = _Progress(job)
    try:
        job.rows_expected = _data_lines(job)
        ImportJob.objects.filter(pk=job.pk).update(rows_expected=job.rows_expected)
        with job.file.open("rb") as stream:
            report = _importer(job)(
                stream=stream,
                actor=job.created_by.get_username() if job.created_by else "admin",
                on_failure=progress.failure,
                on_rows=progress.rows,
            )
    except ImportAborted as exc:
        progress.flush()
        _finish(job, ImportStatus.REFUSED, error=f"The file was not imported: {exc}")
    except Exception:
        progress.flush()
        _finish(
            job,
            ImportStatus.FAILED,
            error=f"The import stopped on an unexpected error after {progress.done} rows. Rows already "
            "imported stay; importing the file again updates them, never duplicates.",
        )
        raise
    else:
        progress.flush()
        _finish(job, ImportStatus.DONE, report=report)
    job.refresh_from_db()
    return job


def _claim(job_id: int) -> ImportJob | None:
    now = timezone.now()
    stale = now - dt.timedelta(seconds=settings.IMPORT_TASK_TIME_LIMIT)
    claimed = (
        ImportJob.objects.filter(pk=job_id)
        .filter(Q(status=ImportStatus.QUEUED) | Q(status=ImportStatus.RUNNING, started_at__lt=stale))
        .update(status=ImportStatus.RUNNING, started_at=now, rows_done=0, failed=0, error="")
    )
    if not claimed:
        return None
    ImportFailure.objects.filter(job_id=job_id).delete()  # a re-run after a crash reports afresh
    return ImportJob.objects.select_related("created_by").get(pk=job_id)


def _importer(job: ImportJob) -> Callable[..., ImportReport]:
    if job.kind == ImportKind.CUSTOMERS:
        return partial(customers_import, source_name=job.source_name)
    return orders_import


def _data_lines(job: ImportJob) -> int:
    count, last = 0, b""
    with job.file.open("rb") as handle:
        while block := handle.read(1 << 20):
            count += block.count(b"\n")
            last = block
    if count and not last.endswith(b"\n"):
        count += 1
    return max(count - 1, 0)


class _Progress:
    """Writes rows done and failed rows to the job as the import runs, at most twice a second."""

    def __init__(self, job: ImportJob) -> None:
        self.job_id = job.pk
        self.done = 0
        self.failed = 0
        self._pending: list[ImportFailure] = []
        self._written_at = time.monotonic()

    def rows(self, count: int) -> None:
        self.done += count
        if time.monotonic() - self._written_at >= PROGRESS_EVERY_SECONDS:
            self.flush()

    def failure(self, failure: RowFailure) -> None:
        self.failed += 1
        self._pending.append(
            ImportFailure(job_id=self.job_id, line=failure.line, reason=failure.reason[:500], row=failure.row)
        )
        if len(self._pending) >= FAILURES_BATCH:
            self.flush()

    def flush(self) -> None:
        ImportFailure.objects.bulk_create(self._pending)
        self._pending.clear()
        ImportJob.objects.filter(pk=self.job_id).update(rows_done=self.done, failed=self.failed)
        self._written_at = time.monotonic()


def _finish(job: ImportJob, status: str, *, report: ImportReport | None = None, error: str = "") -> None:
    fields = {"status": status, "finished_at": timezone.now(), "error": error}
    if report is not None:
        fields |= {
            "rows_done": report.rows,
            "created": report.created,
            "updated": report.updated,
            "unchanged": report.counts["unchanged"],
            "failed": report.failed,
            "counts": dict(report.counts),
            "summary": report.summary()[:500],
        }
    ImportJob.objects.filter(pk=job.pk).update(**fields, file="")
    if job.file.name:
        job.file.storage.delete(job.file.name)
    logger.info("import job %s (%s) finished: %s", job.pk, job.kind, status)


def _prune() -> None:
    cutoff = timezone.now() - dt.timedelta(days=settings.IMPORT_JOB_KEEP_DAYS)
    ImportJob.objects.filter(finished_at__lt=cutoff).delete()
