"""Guessing passwords at the admin login page: with the defaults, five wrong passwords for one
username from one address pause that login, even with the right password, until the cool-off."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def staff() -> User:
    User.objects.create_user("sam", "sam@shop.example", "other-secret", is_staff=True)
    return User.objects.create_user("mia", "mia@shop.example", "right-secret", is_staff=True)


def _submit(page, base: str, password: str, username: str = "mia") -> None:
    page.goto(f"{base}/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_load_state()


@pytest.mark.browser
def test_wrong_passwords_lock_the_login_until_the_cool_off(live_server, page, shot, staff):
    assert settings.AXES_FAILURE_LIMIT == 5 and settings.AXES_COOLOFF_TIME == timedelta(minutes=15)
    base = live_server.url
    for _ in range(4):
        _submit(page, base, "guess")
        assert "Please enter the correct username and password" in page.inner_text("#content")

    _submit(page, base, "guess")
    shot("admin_login_locked_out")
    text = page.inner_text("#content")
    assert "Too many failed logins: logging in is paused for 15 minutes." in text
    assert "Remarketing admin" in page.inner_text("#header")

    _submit(page, base, "right-secret")
    assert "Too many failed logins" in page.inner_text("#content")
    assert not page.query_selector("#user-tools"), "the right password must not get in during the cool-off"

    # Only that username is paused from that address: a colleague still logs in.
    _submit(page, base, "other-secret", username="sam")
    assert page.query_selector("#user-tools") and "SAM" in page.inner_text("#user-tools").upper()
    page.click("#logout-form button")

    # Once the cool-off has passed, the right password works again.
    from axes.models import AccessAttempt

    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=16))
    _submit(page, base, "right-secret")
    page.wait_for_selector("#user-tools")
    assert "MIA" in page.inner_text("#user-tools").upper()


def test_an_attacker_elsewhere_cannot_lock_a_colleague_out(staff):
    attacker = Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(10):
        response = attacker.post("/admin/login/?next=/admin/", {"username": "mia", "password": "guess"})
    assert response.status_code == 429 and "Too many failed logins" in response.content.decode()

    colleague = Client(REMOTE_ADDR="198.51.100.7")
    response = colleague.post("/admin/login/?next=/admin/", {"username": "mia", "password": "right-secret"})
    assert response.status_code == 302 and response.headers["Location"] == "/admin/"


def test_test_client_logins_from_code_are_not_throttled(staff):
    client = Client()
    assert client.login(username="mia", password="right-secret")
