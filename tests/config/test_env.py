"""The environment parsers: defaults for unset or empty variables, bounds, choices and URLs,
and a refusal that names the variable (the settings module and other branches build on these)."""

from __future__ import annotations

from ipaddress import ip_network

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import EnvError, env_bool, env_choice, env_float, env_int, env_list, env_percent, env_url
from config.production import production_problems


@pytest.mark.parametrize("raw", [None, "", "   "])
def test_unset_or_empty_takes_the_default(monkeypatch, raw):
    if raw is None:
        monkeypatch.delenv("X_SETTING", raising=False)
    else:
        monkeypatch.setenv("X_SETTING", raw)
    assert env_int("X_SETTING", 7, minimum=1) == 7
    assert env_float("X_SETTING", 0.5, above=0) == 0.5
    assert env_bool("X_SETTING", True) is True
    assert env_choice("X_SETTING", "b", ("a", "b")) == "b"
    assert env_url("X_SETTING", "") == ""


@pytest.mark.parametrize(
    ("call", "raw", "message"),
    [
        (lambda: env_int("X_SETTING", 1, minimum=1), "-3", "X_SETTING must be at least 1, not -3"),
        (lambda: env_int("X_SETTING", 1, maximum=10), "11", "X_SETTING must be at most 10, not 11"),
        (lambda: env_int("X_SETTING", 1), "ten", "X_SETTING must be a whole number, not 'ten'"),
        (lambda: env_percent("X_SETTING", 10), "101", "X_SETTING must be between 0 and 100, not 101"),
        (lambda: env_float("X_SETTING", 1.0, above=0), "0", "X_SETTING must be greater than 0, not 0"),
        (lambda: env_float("X_SETTING", 1.0), "inf", "X_SETTING must be a finite number, not 'inf'"),
        (lambda: env_bool("X_SETTING"), "enabled", "X_SETTING must be true or false"),
        (lambda: env_choice("X_SETTING", "a", ("a", "b")), "c", "X_SETTING must be one of a, b; 'c' is not"),
        (lambda: env_url("X_SETTING", ""), "ftp://host", "X_SETTING must be a URL starting with http:// or https://"),
        (lambda: env_url("X_SETTING", ""), "https://", "X_SETTING must name a host after https://"),
        (lambda: env_list("X_SETTING", check=ip_network), "10.0.0.0/8,nope", "X_SETTING: 'nope' is not valid"),
    ],
)
def test_a_bad_value_is_refused_naming_the_variable(monkeypatch, call, raw, message):
    monkeypatch.setenv("X_SETTING", raw)
    with pytest.raises(ImproperlyConfigured) as caught:
        call()
    assert isinstance(caught.value, EnvError) and isinstance(caught.value, ValueError)
    assert message in str(caught.value)


def test_accepted_spellings(monkeypatch):
    for raw, value in (("YES", True), ("on", True), ("0", False), ("Off", False)):
        monkeypatch.setenv("X_SETTING", raw)
        assert env_bool("X_SETTING") is value
    monkeypatch.setenv("X_SETTING", "warning")
    assert env_choice("X_SETTING", "INFO", ("INFO", "WARNING")) == "WARNING"
    with pytest.raises(EnvError):
        env_choice("X_SETTING", "INFO", ("INFO", "WARNING"), case_sensitive=True)
    monkeypatch.setenv("X_SETTING", " 12 ")
    assert env_int("X_SETTING", 1, minimum=1, maximum=12) == 12


def test_a_real_shop_identity_has_no_production_problems():
    assert (
        production_problems(
            site_url="https://mail.yourshop.com",
            default_from_email="Your Shop <hello@yourshop.com>",
            sender_postal_address="Your Shop GmbH, Hauptstrasse 1, 10115 Berlin",
            unsubscribe_mailto="unsubscribe@yourshop.com",
            list_id_domain="yourshop.com",
            shop_name="Your Shop",
            shop_url="https://yourshop.com",
        )
        == []
    )
