"""Production settings, checked in a fresh process as an operator meets them: `check --deploy` is
clean, secrets come only from the environment, and production refuses to start without them, with
plain-http links, with the demo sender identity or with a mistyped APP_ENV. Every bad value stops
`manage.py` with one clear line naming the variable, never a traceback."""

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
    "SITE_URL": "https://mail.yourshop.com",
    "DEFAULT_FROM_EMAIL": "Your Shop <hello@yourshop.com>",
    "SENDER_POSTAL_ADDRESS": "Your Shop GmbH, Hauptstrasse 1, 10115 Berlin, Germany",
    "UNSUBSCRIBE_MAILTO": "unsubscribe@yourshop.com",
    "LIST_ID_DOMAIN": "yourshop.com",
    "SHOP_NAME": "Your Shop",
    "SHOP_URL": "https://yourshop.com",
}


def manage(
    tmp_path, *args: str, drop: tuple[str, ...] = (), base: dict[str, str] = PRODUCTION, **extra: str
) -> subprocess.CompletedProcess:
    env = {"PATH": os.environ.get("PATH", ""), "VAR_DIR": str(tmp_path), **base, **extra}
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
    assert missing in result.stderr and "Traceback" not in result.stderr, result.stderr


def test_secrets_are_read_from_the_environment_only(tmp_path):
    code = (
        "import os; from django.conf import settings as s; e = os.environ; "
        "print(s.SECRET_KEY == e['SECRET_KEY'], s.ANYMAIL['WEBHOOK_SECRET'] == e['ANYMAIL_WEBHOOK_SECRET'], s.DEBUG)"
    )
    result = manage(tmp_path, "shell", "--no-imports", "-c", code)
    assert result.stdout.split() == ["True", "True", "False"], result.stdout + result.stderr
    source = (settings.BASE_DIR / "config" / "settings.py").read_text()
    assert PRODUCTION["SECRET_KEY"] not in source


def refused(result: subprocess.CompletedProcess) -> str:
    """The one message a refused start prints: non-zero exit, no traceback, nothing on stdout."""
    assert result.returncode != 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith("Configuration error: "), result.stderr
    return result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("SITE_URL", "http://mail.yourshop.com", "must be https"),
        ("SITE_URL", "https://127.0.0.1:8000", "customers cannot reach"),
        ("DEFAULT_FROM_EMAIL", "Demo Shop <hello@shop.example>", "the demo sender"),
        ("DEFAULT_FROM_EMAIL", "Your Shop <news@shop.example>", "a domain your ESP has verified"),
        ("SENDER_POSTAL_ADDRESS", "Demo Shop Ltd, 1 Example Street, 10115 Berlin, Germany", "postal address"),
        ("UNSUBSCRIBE_MAILTO", "unsubscribe@shop.example", "receives unsubscribe requests"),
        ("LIST_ID_DOMAIN", "shop.example", "Set it to your domain"),
        ("SHOP_URL", "https://shop.example", "Set it to your shop"),
    ],
)
def test_production_refuses_plain_http_links_and_the_demo_identity(tmp_path, variable, value, says):
    message = refused(manage(tmp_path, "check", "--deploy", **{variable: value}))
    assert f"{variable} is" in message and says in message, message


def test_production_on_the_defaults_lists_every_demo_value_at_once(tmp_path):
    identity = ("SITE_URL", "DEFAULT_FROM_EMAIL", "SENDER_POSTAL_ADDRESS", "UNSUBSCRIBE_MAILTO", "LIST_ID_DOMAIN")
    message = refused(manage(tmp_path, "check", drop=(*identity, "SHOP_NAME", "SHOP_URL")))
    assert "APP_ENV=production refuses to start" in message
    for variable in (*identity, "SHOP_NAME", "SHOP_URL"):
        assert f"  - {variable} is" in message, message


@pytest.mark.parametrize("typo", ["prodution", "Production", "prod", "staging"])
def test_a_mistyped_app_env_stops_instead_of_starting_in_development(tmp_path, typo):
    message = refused(manage(tmp_path, "check", APP_ENV=typo))
    assert f"APP_ENV must be one of development, production; {typo!r} is not" in message


def test_a_mistyped_app_env_never_reaches_the_development_secrets(tmp_path):
    code = "from django.conf import settings; print(settings.SECRET_KEY)"
    result = manage(tmp_path, "shell", "--no-imports", "-c", code, base={"APP_ENV": "prodution"})
    assert "dev-only-insecure-key" not in result.stdout
    assert "APP_ENV" in refused(result)


DEVELOPMENT = {"APP_ENV": "development"}


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL; 'LOUD' is not"),
        ("SEND_CONCURRENCY", "-3", "SEND_CONCURRENCY must be at least 1, not -3"),
        ("SEND_BATCH_SIZE", "0", "SEND_BATCH_SIZE must be at least 1, not 0"),
        ("SEND_BATCH_SIZE", "200.5", "SEND_BATCH_SIZE must be a whole number, not '200.5'"),
        ("SEND_RATE_PER_SECOND", "fast", "SEND_RATE_PER_SECOND must be a number, not 'fast'"),
        ("SEND_TASK_BUDGET_SECONDS", "0", "SEND_TASK_BUDGET_SECONDS must be greater than 0, not 0"),
        ("QUIET_HOURS_START", "24", "QUIET_HOURS_START must be between 0 and 23, not 24"),
        ("ADMIN_COMPLAINT_RED", "3", "ADMIN_COMPLAINT_RED must be between 0 and 1, not 3"),
        ("TRACKING_BUFFER", "maybe", "TRACKING_BUFFER must be true or false"),
        ("DJANGO_DEBUG", "ture", "DJANGO_DEBUG must be true or false"),
        ("TRACKING_IP_MODE", "mask", "TRACKING_IP_MODE must be one of truncate, hash, none; 'mask' is not"),
        ("SITE_URL", "mail.yourshop.com", "SITE_URL must be a URL starting with http:// or https://"),
        ("REDIS_URL", "127.0.0.1:6379", "REDIS_URL must be a URL starting with redis:// or rediss:// or unix://"),
        ("DATABASE_URL", "postgress://db/remarketing", "DATABASE_URL is not a database URL"),
        ("TRACKING_APPLE_NETWORKS", "17.0.0.0/33", "TRACKING_APPLE_NETWORKS: '17.0.0.0/33' is not valid"),
    ],
)
def test_every_setting_refuses_a_bad_value_with_a_clear_message(tmp_path, variable, value, says):
    message = refused(manage(tmp_path, "check", base=DEVELOPMENT, **{variable: value}))
    assert says in message, message


def test_empty_variables_take_their_defaults(tmp_path):
    code = (
        "from django.conf import settings as s; "
        "print(s.SEND_CONCURRENCY, s.TRACKING_BUFFER, s.LOGGING['root']['level'])"
    )
    blank = dict.fromkeys(("SEND_CONCURRENCY", "TRACKING_BUFFER", "LOG_LEVEL", "REDIS_URL", "SITE_URL"), "")
    result = manage(tmp_path, "shell", "--no-imports", "-c", code, base=DEVELOPMENT, **blank)
    assert result.stdout.split() == ["8", "True", "INFO"], result.stdout + result.stderr
