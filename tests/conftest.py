import os
import shutil

import pytest
from django.conf import settings
from django.db import connections
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from tests.fake_esp import FakeESP
from tracking.link_rewriting import tracked_url_cache_clear
from tracking.selectors.tracked_urls import tracked_url_targets_clear

# Property tests: in CI the same examples on every run (a failure there reproduces anywhere with
# HYPOTHESIS_PROFILE=ci), a fixed number of them, and no wall-clock deadline on a shared machine.
# Locally examples are random (and remembered in .hypothesis/ when one fails), to find new cases.
# Tests that set max_examples themselves keep their number under both profiles.
hypothesis_settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=100,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
hypothesis_settings.register_profile("dev", deadline=None, print_blob=True)
_in_ci = os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if _in_ci else "dev"))

# One rule for tests that need a server: they run when the environment names it (DATABASE_URL,
# REDIS_URL, as CI's .ci/run does) and are skipped with the reason otherwise, so a plain
# `make test` on a fresh machine never connects to a server or starts one.
NEEDS_POSTGRES = "needs PostgreSQL: set DATABASE_URL=postgres://... (other processes or threads share its database)"
NEEDS_REDIS = "needs Redis: set REDIS_URL=redis://..."
NEEDS_REDIS_SERVER_BINARY = "needs redis-server (starts its own): apt-get install redis-server"
NEEDS_REDIS_SERVER_OPT_IN = "needs redis-server (starts its own): set REDIS_URL=redis://... to opt in"


def server_skip_reason(item: pytest.Item) -> str | None:
    """Why this test cannot run here, or None. Markers: needs_postgres, needs_redis, needs_redis_server."""
    if item.get_closest_marker("needs_postgres") and connections["default"].vendor != "postgresql":
        return NEEDS_POSTGRES
    if item.get_closest_marker("needs_redis") and not settings.REDIS_URL:
        return NEEDS_REDIS
    if item.get_closest_marker("needs_redis_server"):
        if shutil.which("redis-server") is None:
            return NEEDS_REDIS_SERVER_BINARY
        if not settings.REDIS_URL:
            return NEEDS_REDIS_SERVER_OPT_IN
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    missing: set[str] = set()
    for item in items:
        reason = server_skip_reason(item)
        if reason:
            item.add_marker(pytest.mark.skip(reason=reason))
            missing.add(reason)
    if missing and os.environ.get("CI_REQUIRE_SERVERS") == "1":  # CI runs every test or says why not
        raise pytest.UsageError("CI_REQUIRE_SERVERS=1 but some tests would be skipped:\n" + "\n".join(sorted(missing)))


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_tracked_url_caches():
    # Tracked URL ids are cached per process; a rolled-back test must not leak its ids.
    tracked_url_cache_clear()
    tracked_url_targets_clear()
    yield
    tracked_url_cache_clear()
    tracked_url_targets_clear()


JOURNEY_ESP_TOKEN = "journey-test-token"


@pytest.fixture
def journey_esp(settings):
    """The fake ESP for journey tests: no frequency cap, no quiet hours, no rate limit, so a due step sends now."""
    with FakeESP(token=JOURNEY_ESP_TOKEN) as server:
        settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
        settings.ANYMAIL = {"POSTMARK_SERVER_TOKEN": JOURNEY_ESP_TOKEN, "POSTMARK_API_URL": server.url}
        settings.SEND_RATE_PER_SECOND = 0
        settings.FREQUENCY_CAP_PER_DAY = settings.FREQUENCY_CAP_PER_WEEK = 0
        settings.QUIET_HOURS_START = settings.QUIET_HOURS_END = 0
        yield server
