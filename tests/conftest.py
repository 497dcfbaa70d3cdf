import os

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

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
