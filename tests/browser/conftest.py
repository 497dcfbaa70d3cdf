"""Headless Debian Chromium driven by Playwright's sync API against pytest-django's live server."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Playwright's sync API runs an event loop in this thread; Django's ORM calls from the test are still
# ordinary synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("Debian's Chromium is not installed at /usr/bin/chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def shot(page):
    ARTIFACTS.mkdir(exist_ok=True)

    def save(name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save


MARKETER_PASSWORD = "secret-pw"


def marketer_create(*, username: str = "mia", email: str = "mia@shop.example"):
    """A staff login in the Marketing group, as a shop's marketer has."""
    from django.contrib.auth.models import Group, User

    from customers.roles import MARKETING_GROUP, marketing_group_sync

    marketing_group_sync()
    user = User.objects.create_user(username, email, MARKETER_PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name=MARKETING_GROUP))
    return user


@pytest.fixture
def marketer(db):
    return marketer_create()


def admin_log_in(
    page,
    base: str,
    username: str = "mia",
    password: str = MARKETER_PASSWORD,
    *,
    then: str = "/admin/",
    wait_for: str = "#user-tools",
) -> None:
    """Log in through the admin's own login page, as a person does, and wait for the page after it."""
    page.goto(f"{base}/admin/login/?next={then}")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_selector(wait_for)
