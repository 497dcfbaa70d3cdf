"""The suite's one rule for tests that need a server, run as `make test` runs pytest: without
DATABASE_URL / REDIS_URL they are skipped with the reason (never a connection attempt), and CI's
CI_REQUIRE_SERVERS=1 refuses to run with any of them skipped."""

from __future__ import annotations

import os
import subprocess
import sys

from django.conf import settings

SERVER_TESTS = [
    "tests/tracking/test_buffer.py::test_only_one_drainer_at_a_time",
    "tests/journeys/test_scheduler.py::test_two_ticks_at_once_create_one_message_each",
    "tests/reliability/test_tracking_faults.py",
]
SERVER_VARIABLES = ("DATABASE_URL", "REDIS_URL", "TRACKING_TEST_REDIS_URL", "CI_REQUIRE_SERVERS")


def pytest_run(**extra: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in SERVER_VARIABLES and not k.startswith("PYTEST_")}
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rs", *SERVER_TESTS]
    return subprocess.run(
        command, cwd=settings.BASE_DIR, env={**env, **extra}, capture_output=True, text=True, timeout=300
    )


def test_without_servers_each_server_test_is_skipped_with_its_reason():
    result = pytest_run()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 skipped" in result.stdout, result.stdout
    assert "needs Redis: set REDIS_URL=redis://..." in result.stdout
    assert "needs PostgreSQL: set DATABASE_URL=postgres://..." in result.stdout
    assert "needs redis-server (starts its own)" in result.stdout


def test_ci_refuses_to_skip_a_server_test():
    result = pytest_run(CI_REQUIRE_SERVERS="1")
    assert result.returncode != 0
    assert "CI_REQUIRE_SERVERS=1 but some tests would be skipped" in result.stdout + result.stderr
    assert "needs Redis: set REDIS_URL" in result.stdout + result.stderr
