import pytest

from tracking.link_rewriting import tracked_url_cache_clear
from tracking.selectors.tracked_urls import tracked_url_targets_clear


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
