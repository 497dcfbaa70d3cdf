"""Fixtures of the fault tests: real Celery workers (the send e2e test's Worker) with tuned settings."""

from __future__ import annotations

import pytest

from customers.models import Customer
from tests.campaigns.test_sending_e2e import Worker
from tests.fake_esp import FakeESP


@pytest.fixture
def start_worker(tmp_path):
    """Start `celery worker` subprocesses sharing the test database (tests marked needs_postgres)."""
    started: list[Worker] = []

    def start(esp: FakeESP, *, name: str = "w", queue: str = "", **env: str) -> Worker:
        folder = tmp_path / name
        folder.mkdir(exist_ok=True)
        worker = Worker(folder, esp)
        worker.queue = queue or worker.queue
        worker.env.update(env)
        worker.start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def customers_bulk(db):
    def make(count: int, *, prefix: str) -> set[str]:
        Customer.objects.bulk_create(
            [Customer(email=f"{prefix}{i}@example.test", first_name=f"N{i}", consent="granted") for i in range(count)],
            batch_size=1000,
        )
        return set(Customer.objects.filter(email__startswith=prefix).values_list("email", flat=True))

    return make
