"""Production settings, checked in a fresh process: `check --deploy` is clean, secrets come only
from the environment, and production refuses to start without them."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.conf import settings

PRODUCTION = {
    "APP_ENV": "production",
    "SECRET_KEY": "x7Qm2-v9KpL0s8Rw3Yt6Zb1Nc4Hd5Jf7Gg2Ee9Aa0Uu3Ii6Oo1Pp8Ll4Kk7Jj0",
    "ANYMAIL_WEBHOOK_SECRET": "hooks:9f8e7d6c5b4a39281706",
    "ALLOWED_HOSTS": "mail.shop.example",
    "POSTMARK_SERVER_TOKEN": "server-token-from-the-environment",
}


def manage(tmp_path, *args: str, drop: tuple[str, ...] = (), **extra: str) -> subprocess.CompletedProcess:
    env = {"PATH": os.environ.get("PATH", ""), "VAR_DIR": str(tmp_path), **PRODUCTION, **extra}
    for name in drop:
        env.pop(name)
    command = [sys.executable, "manage.py", *args]
    return subprocess.run(command, cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=60)


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ANYMAIL_WEBHOOK_SECRET", "POSTMARK_SERVER_TOKEN"])
def test_production_refuses_to_start_without_its_secrets(tmp_path, missing):
    result = manage(tmp_path, "check", drop=(missing,))
    assert result.returncode != 0
    assert missing.split("_")[0] in result.stdout + result.stderr


def test_secrets_are_read_from_the_environment_only(tmp_path):
    code = (
        "import os; from django.conf import settings as s; e = os.environ; "
        "print(s.SECRET_KEY == e['SECRET_KEY'], s.ANYMAIL['WEBHOOK_SECRET'] == e['ANYMAIL_WEBHOOK_SECRET'], s.DEBUG)"
    )
    result = manage(tmp_path, "shell", "--no-imports", "-c", code)
    assert result.stdout.split() == ["True", "True", "False"], result.stdout + result.stderr
    source = (settings.BASE_DIR / "config" / "settings.py").read_text()
    assert PRODUCTION["SECRET_KEY"] not in source
