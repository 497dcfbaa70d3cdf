"""Each role in a real browser: every link, list action and button it is shown works for it.

A button that answers 403 to the group it is shown to is a broken promise ("Export ad audience"
was shown to Marketing and refused it). The walk (tests/browser/admin_crawl.py) opens every
visible admin link, runs every action in each list's action menu on a ticked row, and clicks
every submit button (confirmations of deletes and erasures are opened, never confirmed).
"""

from __future__ import annotations

import datetime as dt
import io
import uuid
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.utils import timezone

from campaigns.journeys.models import CouponCode
from campaigns.journeys.services.recipes import campaign_create_from_recipe
from campaigns.models import Enrollment, Message, MessageStatus
from customers.models import (
    Customer,
    ImportFailure,
    ImportJob,
    ImportKind,
    ImportStatus,
    ModelFit,
    ModelFitKind,
)
from customers.roles import DATA_PROTECTION_GROUP, MARKETING_GROUP, data_protection_group_sync, marketing_group_sync
from customers.services.events.api_keys import api_key_create
from tests.browser.admin_crawl import Walk
from tracking.models import EspEvent, TrackingEvent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-test-password"


@pytest.fixture
def shop(settings, tmp_path):
    """A little of everything, so each list has a row to act on and each change page exists."""
    settings.IMPORT_UPLOAD_DIR = tmp_path
    settings.ADMIN_PROGRESS_POLL_MS = 60_000
    call_command("seed_demo", "--customers", "12", "--seed", "7", stdout=io.StringIO())
    owner = User.objects.create_superuser("owner", "owner@shop.example", PASSWORD)
    campaign = campaign_create_from_recipe(recipe="win_back", user=owner)[0]
    customer = Customer.objects.order_by("pk").first()
    step = campaign.steps.order_by("position").first()
    enrollment = Enrollment.objects.create(campaign=campaign, customer=customer)
    message = Message.objects.create(
        customer=customer,
        campaign=campaign,
        step=step,
        enrollment=enrollment,
        status=MessageStatus.SENT,
        sent_at=timezone.now(),
    )
    EspEvent.objects.create(event_id="ev-1", esp="postmark", event_type="delivered", message=message)
    TrackingEvent.objects.create(
        event_uuid=uuid.uuid4(), message=message, customer=customer, kind="open", occurred_at=timezone.now()
    )
    CouponCode.objects.create(pool="spring", code="SPRING-1")
    ModelFit.objects.create(kind=ModelFitKind.BG_NBD, as_of=timezone.now() - dt.timedelta(days=1), params={"r": 0.2})
    api_key_create(name="Shop", created_by=owner)
    job = ImportJob.objects.create(
        kind=ImportKind.CUSTOMERS,
        status=ImportStatus.DONE,
        source_name="list.csv",
        created_by=owner,
        rows_done=2,
        created=1,
        failed=1,
        finished_at=timezone.now(),
    )
    ImportFailure.objects.create(job=job, line=3, reason="email is not a valid email address", row="nope,Nope\n")
    assert Customer.objects.filter(total_spent__gt=Decimal("0")).exists()
    return job


def _user(role: str) -> str:
    if role == "superuser":
        return "owner"
    group = {"marketing": marketing_group_sync, "data_protection": data_protection_group_sync}[role]()
    user = User.objects.create_user(role, f"{role}@shop.example", PASSWORD, is_staff=True)
    user.groups.add(group)
    return role


def _login(page, base: str, username: str) -> None:
    page.goto(f"{base}/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#user-tools")


@pytest.mark.parametrize("role", ["superuser", "marketing", "data_protection"])
def test_every_button_a_role_is_shown_works_for_it(live_server, page, shot, shop, role):
    _login(page, live_server.url, _user(role))

    walk = Walk(page, live_server.url).run()

    assert not walk.problems, "\n".join(walk.problems)
    assert len(walk.visited) > 15 and walk.buttons_sent
    if role != "data_protection":
        assert walk.actions_run
    visited = " ".join(walk.visited)
    ran = " ".join(walk.actions_run)
    sent = " ".join(walk.buttons_sent)
    if role in {"superuser", "marketing"}:
        # A marketer's jobs: import a list, export an ad audience, erase a contact.
        assert "/admin/customers/customer/import-csv/" in visited
        assert "/admin/customers/modelfit/export-audience/" in visited and "Download CSV" in sent
        assert "erase_customers" in ran
        assert f"/admin/customers/customer/import-csv/{shop.pk}/failed-rows.csv" in visited
    if role == "marketing":
        assert "export_customer_data" not in ran and "Export personal data" not in sent
        assert "/admin/customers/order/import-csv/" not in visited
        assert "/admin/customers/apikey/" not in visited and "/admin/auth/user/" not in visited
        assert "/admin/admin/logentry/" not in visited
    if role in {"superuser", "data_protection"}:
        assert "export_customer_data" in ran or role == "data_protection"
        assert "Export personal data" in sent
        assert "/admin/admin/logentry/" in visited
    if role == "data_protection":
        assert "/admin/campaigns/" not in visited and "/admin/customers/modelfit/export-audience/" not in visited
    shot(f"roles_{role}_last_page")


def test_marketing_sees_the_ad_audience_export_and_can_use_it(live_server, page, shop):
    """The reported defect: the button was shown on the metrics pages and the page answered 403."""
    _login(page, live_server.url, _user("marketing"))
    page.goto(f"{live_server.url}/admin/customers/modelfit/dashboard/")
    page.click("text=Export ad audience")
    page.wait_for_selector("text=Download CSV")
    page.select_option("#id_audience", "all")
    with page.expect_download() as download:
        page.click("input[value='Download CSV']")
    assert download.value.suggested_filename == "audience-all-meta.csv"
    assert not page.query_selector("input[value='Recompute now']")  # an admin's job, so not shown
    assert Group.objects.get(name=MARKETING_GROUP).user_set.filter(username="marketing").exists()
    assert not Group.objects.get(name=DATA_PROTECTION_GROUP).user_set.exists()
