"""A marketer uploads a customer list in the admin: the upload answers at once, a background job
imports it, the page's progress bar follows it to the counts and a downloadable failed-rows report.

On PostgreSQL a real `celery -A config worker` process runs the job; on SQLite (one in-memory test
database the live server thread shares) the test runs the queued task itself, as the worker would.
"""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection

from config.celery import app as celery_app
from customers.models import Customer, ImportJob, ImportStatus
from customers.roles import marketing_group_sync
from customers.tasks import import_run

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-test-password"
GOOD_ROWS = 40


def _database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class ImportWorker:
    """On PostgreSQL with Redis: a real worker process on a queue of its own. Otherwise None."""

    def __init__(self, tmp: Path) -> None:
        self.queue = f"imports-{uuid.uuid4().hex[:8]}"
        self.log = tmp / "worker.log"
        self.process: subprocess.Popen | None = None
        self.env = {
            **os.environ,
            "DATABASE_URL": _database_url(),
            "REDIS_URL": settings.REDIS_URL,
            "IMPORT_UPLOAD_DIR": str(settings.IMPORT_UPLOAD_DIR),
            "VAR_DIR": str(tmp / "var"),
            "LOG_LEVEL": "WARNING",
        }

    def start(self) -> None:
        command = [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", self.queue, "-c", "1"]
        command += ["-n", f"{self.queue}@%h", "--without-gossip", "--without-mingle", "-l", "warning"]
        with self.log.open("a") as log:
            self.process = subprocess.Popen(
                command, cwd=settings.BASE_DIR, env=self.env, stdout=log, stderr=log, start_new_session=True
            )

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)


@pytest.fixture
def worker(settings, tmp_path):
    settings.IMPORT_UPLOAD_DIR = tmp_path / "uploads"
    settings.ADMIN_PROGRESS_POLL_MS = 250
    if connection.vendor != "postgresql" or not settings.REDIS_URL:
        yield None
        return
    process = ImportWorker(tmp_path)
    previous = celery_app.conf.task_routes
    celery_app.conf.task_routes = {"customers.import_run": {"queue": process.queue}}
    process.start()
    try:
        yield process
    finally:
        celery_app.conf.task_routes = previous
        process.stop()


@pytest.fixture
def marketer():
    user = User.objects.create_user("mia", "mia@shop.example", PASSWORD, is_staff=True)
    user.groups.add(marketing_group_sync())
    return user


def _login(page, base: str) -> None:
    page.goto(f"{base}/admin/login/?next=/admin/customers/customer/")
    page.fill("#id_username", "mia")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#changelist")


def _upload(page, path: Path) -> None:
    page.click("text=Import CSV")
    page.wait_for_selector("#csv-import-form")
    page.set_input_files("#id_file", str(path))
    page.click("#csv-import-form input[type=submit]")
    page.wait_for_load_state("load")


def test_upload_runs_in_the_background_and_reports_failed_rows(live_server, page, shot, worker, marketer, tmp_path):
    rows = [f"shopper{i}@example.test,Shopper {i}" for i in range(GOOD_ROWS)]
    # Line 6: not an email. Line 12: a quote that never closes (it used to swallow the rest of the file).
    rows[4] = "not-an-email,Nobody"
    rows[10] = 'quote@example.test,"Quinn'
    path = tmp_path / "spring list.csv"
    path.write_text("email,first_name\n" + "\n".join(rows) + "\n", encoding="utf-8")
    _login(page, live_server.url)

    _upload(page, path)

    page.wait_for_selector("#import-status")
    job = ImportJob.objects.get()
    assert job.source_name == "spring list.csv" and job.created_by == marketer
    if worker is None:
        # The request queued the job and returned; nothing was imported in it.
        assert page.inner_text("#import-status") == "Queued" and not Customer.objects.exists()
        assert page.query_selector("#import-progress-bar") is not None
        shot("import_01_queued")
        import_run(job.pk)  # what the worker does with the queued task
    page.wait_for_selector("#import-counts", timeout=60_000)  # the poll saw the job finish and showed the report
    shot("import_02_done")

    assert page.inner_text("#import-status") == "Done"
    assert page.inner_text("#count-created") == str(GOOD_ROWS - 2)
    assert page.inner_text("#count-failed") == "2"
    errors = page.inner_text("#import-errors")
    assert "6\temail is not a valid email address" in errors
    assert "12\tunterminated quote" in errors
    assert Customer.objects.count() == GOOD_ROWS - 2
    assert Customer.objects.filter(email="shopper11@example.test", first_name="Shopper 11").exists()

    with page.expect_download() as download:
        page.click("#download-failed-rows")
    report = list(csv.reader(Path(download.value.path()).read_text(encoding="utf-8").splitlines()))
    assert report[0] == ["line", "error", "row"]
    assert [(line, row) for line, _, row in report[1:]] == [
        ("6", "not-an-email,Nobody"),
        ("12", 'quote@example.test,"Quinn'),
    ]
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE and not job.file


def test_a_column_named_twice_is_refused_on_the_upload_page(live_server, page, worker, marketer, tmp_path):
    path = tmp_path / "twice.csv"
    path.write_text("email,first_name,EMAIL\nann@example.test,Ann,other@example.test\n", encoding="utf-8")
    _login(page, live_server.url)

    _upload(page, path)

    error = page.inner_text(".errorlist")
    assert "names a column more than once ('email' in columns 1, 3)" in error and "nothing was imported" in error
    assert not ImportJob.objects.exists() and not Customer.objects.exists()


def test_unterminated_header_quote_is_refused_too(live_server, page, worker, marketer, tmp_path):
    path = tmp_path / "quote.csv"
    path.write_text('email,"first_name\nann@example.test,Ann\n', encoding="utf-8")
    _login(page, live_server.url)

    _upload(page, path)

    assert "a quote in it never closes" in page.inner_text(".errorlist")
    assert not ImportJob.objects.exists()
