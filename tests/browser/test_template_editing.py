"""A marketer edits templates in a real browser: every starter template saves and previews after an
edit typed into the MJML textarea (which Chromium submits with CRLF line endings), tags that leak
or exhaust are refused on save, and a test send reaches the fake ESP's inbox."""

from __future__ import annotations

import os

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from playwright.sync_api import expect

from campaigns.models import Template
from campaigns.templating.starters import starter_templates
from customers.roles import MARKETING_GROUP, marketing_group_sync
from tests.browser.conftest import admin_log_in
from tests.campaigns.conftest import fake_esp  # noqa: F401  (the fixture)

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EDIT = "Typed in the browser"


@pytest.fixture(autouse=True)
def _patient_page(page):
    # Each save compiles MJML and every page renders a live preview: on a busy machine (the whole
    # suite on two cores) a step can take longer than the default 10 s.
    page.set_default_timeout(30_000)
    page.set_default_navigation_timeout(30_000)


@pytest.fixture
def marketer() -> User:
    marketing_group_sync()
    user = User.objects.create_user("mia", "", "secret-pw", is_staff=True)  # a new colleague: no email yet
    user.groups.add(Group.objects.get(name=MARKETING_GROUP))
    return user


def _type_into_first_text(page, words: str) -> None:
    """Put the caret just before the first </mj-text> in the MJML textarea, then type."""
    page.click("#id_mjml")
    page.evaluate(
        """() => {
            const area = document.querySelector('#id_mjml');
            const at = area.value.indexOf('</mj-text>');
            area.setSelectionRange(at, at);
        }"""
    )
    page.keyboard.type(" " + words)


def _frame_body(page):
    """The desktop preview's body (a sandboxed srcdoc iframe, so read through Playwright)."""
    return page.frame_locator(".preview-desktop iframe").locator("body")


def test_every_starter_template_can_be_edited_saved_and_previewed(live_server, page, shot, marketer):
    call_command("load_starter_templates")
    names = [starter.name for starter in starter_templates()]
    assert len(names) == 11
    base = live_server.url
    admin_log_in(page, base, "mia", "secret-pw")

    for number, name in enumerate(names, start=1):
        template = Template.objects.get(name=name)
        page.goto(f"{base}/admin/campaigns/template/{template.pk}/change/")
        edit = f"{EDIT} ({number})"
        _type_into_first_text(page, edit)
        page.click("input[name=_continue]")
        page.wait_for_selector(".messagelist, .errornote")
        assert not page.query_selector(".errornote"), (name, page.inner_text("#content-main"))
        assert f"“{name}” is at version 2." in page.inner_text(".messagelist"), name

        # The live preview of the saved form renders, with no errors listed.
        expect(_frame_body(page)).to_contain_text(edit)
        assert page.locator(".preview-errors").is_hidden(), name

        page.click("text=Preview")
        page.wait_for_selector(".template-preview-page")
        assert not page.query_selector(".template-preview-page .errornote"), name
        expect(_frame_body(page)).to_contain_text(edit)
        if number == 1:
            shot("template_starter_edited_preview")

        template.refresh_from_db()
        version = template.current_version
        assert template.is_valid and version.number == 2, (name, template.validation_errors)
        assert "\r" not in version.mjml and edit in version.mjml
        assert edit in version.compiled_html and "<html" in version.compiled_html


@pytest.mark.parametrize(
    ("tag", "message"),
    [
        ("{% debug %}", "{% debug %} is not allowed in emails"),
        ("{% lorem 9999999 w %}", "{% lorem %} makes at most 100 words or paragraphs"),
        ('{% include "admin/base.html" %}', "{% include %} is not allowed in emails"),
        ("{% load humanize %}", "{% load %} is not allowed in emails"),
    ],
)
def test_saving_a_template_with_a_leaking_or_abusive_tag_is_refused(live_server, page, marketer, tag, message):
    call_command("load_starter_templates")
    template = Template.objects.get(name=starter_templates()[0].name)
    base = live_server.url
    admin_log_in(page, base, "mia", "secret-pw")
    page.goto(f"{base}/admin/campaigns/template/{template.pk}/change/")
    _type_into_first_text(page, tag)
    page.click("input[name=_continue]")
    page.wait_for_selector(".errornote")
    assert message in page.inner_text(".field-mjml .errorlist")
    template.refresh_from_db()
    assert template.current_version.number == 1 and tag not in template.mjml


def test_a_marketer_without_an_address_sends_a_test_to_the_fake_esp_inbox(
    live_server,
    page,
    shot,
    marketer,
    fake_esp,  # noqa: F811
):
    call_command("load_starter_templates")
    template = Template.objects.get(name=starter_templates()[0].name)
    base = live_server.url
    admin_log_in(page, base, "mia", "secret-pw")
    page.goto(f"{base}/admin/campaigns/template/{template.pk}/preview/")

    page.fill("#send-test-address", "mia@shop.example")
    page.click("#send-test-form button[type=submit]")
    page.wait_for_selector(".messagelist")
    shot("template_send_test")
    assert "Test email sent to mia@shop.example." in page.inner_text(".messagelist")
    marketer.refresh_from_db()
    assert marketer.email == "mia@shop.example"

    page.goto(fake_esp.url)
    inbox = page.inner_text("table")
    [sent] = fake_esp.messages()
    assert sent["To"] == "mia@shop.example" and sent["Subject"].startswith("[TEST] ")
    assert "mia@shop.example" in inbox and sent["Subject"] in inbox
    page.click("table a")
    page.wait_for_selector("pre")
    assert "unsubscribe" in page.inner_text("pre").lower()

    # The next time, the dialog already knows the address.
    page.goto(f"{base}/admin/campaigns/template/{template.pk}/change/")
    assert page.input_value("#send-test-address") == "mia@shop.example"
    page.click("#send-test-form button[type=submit]")
    page.wait_for_selector(".messagelist")
    assert "Test email sent to mia@shop.example." in page.inner_text(".messagelist")
    assert fake_esp.times_mailed("mia@shop.example") == 2


def test_the_demo_marketing_login_can_send_a_test_out_of_the_box(live_server, page, fake_esp):  # noqa: F811
    call_command("load_starter_templates")
    call_command("create_demo_staff")
    template = Template.objects.get(name=starter_templates()[0].name)
    base = live_server.url
    admin_log_in(page, base, "marketing", "marketing")
    page.goto(f"{base}/admin/campaigns/template/{template.pk}/preview/")
    assert page.input_value("#send-test-address") == "marketing@shop.example"
    page.click("#send-test-form button[type=submit]")
    page.wait_for_selector(".messagelist")
    assert "Test email sent to marketing@shop.example." in page.inner_text(".messagelist")
    assert fake_esp.times_mailed("marketing@shop.example") == 1
    assert User.objects.get(username="admin").email == "admin@shop.example"
