"""Login throttling settings are read strictly: a typo stops start-up instead of disabling the lockout."""

from __future__ import annotations

import pytest

from tests.security.test_deploy_settings import manage


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("LOGIN_FAILURE_LIMIT", "five", "LOGIN_FAILURE_LIMIT must be a whole number"),
        ("LOGIN_FAILURE_LIMIT", "0", "LOGIN_FAILURE_LIMIT must be at least 1"),
        ("LOGIN_COOLOFF_MINUTES", "15m", "LOGIN_COOLOFF_MINUTES must be a number"),
        ("LOGIN_COOLOFF_MINUTES", "0", "LOGIN_COOLOFF_MINUTES must be greater than 0"),
    ],
)
def test_malformed_login_throttle_settings_stop_start_up(tmp_path, name, value, says):
    result = manage(tmp_path, "check", **{name: value})
    assert result.returncode != 0
    assert says in result.stderr


def test_valid_login_throttle_settings_start(tmp_path):
    result = manage(tmp_path, "check", LOGIN_FAILURE_LIMIT="10", LOGIN_COOLOFF_MINUTES="2.5")
    assert result.returncode == 0, result.stderr
