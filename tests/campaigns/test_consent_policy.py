"""CONSENT_POLICY: one rule for who may get marketing mail, the same on every audience path.

Sent the way staff send (the admin's "send now" action, the journey tick command) through the
real anymail backend to the fake ESP, and checked in its inbox; exported by command name.
"""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from campaigns.models import CampaignKind, CampaignStatus, Message, MessageStatus, Segment
from campaigns.services.sending import message_plan_one_off, messages_send_due
from customers.models import Consent, Customer, EmailStatus, Order

pytestmark = pytest.mark.django_db

OPT_IN_MAILED = {"granted@example.test", "granted_buyer@example.test"}
SOFT_OPT_IN_MAILED = OPT_IN_MAILED | {"unknown_buyer@example.test"}


def person(name: str, consent: str, *, orders: int = 0, status: str = EmailStatus.SUBSCRIBED) -> Customer:
    customer = Customer.objects.create(
        email=f"{name}@example.test", first_name=name, consent=consent, email_status=status, timezone="UTC"
    )
    for i in range(orders):
        Order.objects.create(
            external_id=f"{name}-{i}",
            customer=customer,
            placed_at=timezone.now() - timedelta(days=30 + i),
            total=Decimal("40.00"),
        )
    return customer


@pytest.fixture
def people(db, settings):
    cache.clear()
    settings.QUIET_HOURS_START = settings.QUIET_HOURS_END = 0  # the tick queues at once, whatever the hour
    return {
        "granted": person("granted", Consent.GRANTED),
        "granted_buyer": person("granted_buyer", Consent.GRANTED, orders=1),
        "unknown_buyer": person("unknown_buyer", Consent.UNKNOWN, orders=2),
        "unknown_lead": person("unknown_lead", Consent.UNKNOWN),
        "denied_buyer": person("denied_buyer", Consent.DENIED, orders=1),
        "unsubscribed_buyer": person("unsubscribed_buyer", Consent.GRANTED, orders=1, status=EmailStatus.UNSUBSCRIBED),
    }


def inbox(fake_esp) -> set[str]:
    return {address for message in fake_esp.messages() for address in message["recipients"]}


def send_now_in_admin(admin_client, campaign) -> str:
    # The campaign has no segment: staff confirm "everyone" on the send-now page.
    response = admin_client.post(
        reverse("admin:campaigns_campaign_send_now", args=[campaign.pk]), {"everyone": "yes"}, follow=True
    )
    assert response.status_code == 200
    messages_send_due(budget_seconds=20)
    return response.content.decode()


def test_default_policy_is_opt_in_and_unknown_consent_is_not_mailed(admin_client, people, fake_esp, make_campaign):
    assert django_settings.CONSENT_POLICY == "opt_in"
    page = send_now_in_admin(admin_client, make_campaign())
    assert "2 message(s) queued" in page
    assert inbox(fake_esp) == OPT_IN_MAILED


def test_soft_opt_in_adds_buyers_with_unknown_consent_only(admin_client, people, fake_esp, make_campaign, settings):
    settings.CONSENT_POLICY = "soft_opt_in"
    send_now_in_admin(admin_client, make_campaign())
    assert inbox(fake_esp) == SOFT_OPT_IN_MAILED  # not the lead, never refused consent, never unsubscribed


@pytest.mark.parametrize(("policy", "expected"), [("opt_in", OPT_IN_MAILED), ("soft_opt_in", SOFT_OPT_IN_MAILED)])
def test_journeys_and_the_audience_export_reach_the_same_people(
    people, fake_esp, make_campaign, settings, policy, expected
):
    settings.CONSENT_POLICY = policy
    settings.FREQUENCY_CAP_PER_DAY = settings.FREQUENCY_CAP_PER_WEEK = 0
    journey = make_campaign(name="Loyalty thanks", kind=CampaignKind.LOYALTY, status=CampaignStatus.ACTIVE)
    journey.holdout_percent = 0
    journey.save(update_fields=["holdout_percent"])

    call_command("journeys_tick", stdout=io.StringIO())
    messages_send_due(budget_seconds=20)
    assert inbox(fake_esp) == expected
    # Nobody outside the policy is even enrolled: no messages wait to be suppressed later.
    assert set(Message.objects.filter(campaign=journey).values_list("customer__email", flat=True)) == expected

    out = io.StringIO()
    call_command("export_audience", "all", "-", "--format", "meta", stdout=out)
    exported = {line.split(",")[0] for line in out.getvalue().splitlines()[1:]}
    assert exported == {hashlib.sha256(email.encode()).hexdigest() for email in expected}


def test_claim_time_applies_the_policy_in_force_at_send_time(people, fake_esp, make_campaign, settings):
    settings.CONSENT_POLICY = "soft_opt_in"
    campaign = make_campaign()
    assert message_plan_one_off(campaign=campaign) == 3
    settings.CONSENT_POLICY = "opt_in"  # the shop tightens its policy before the queue drains
    messages_send_due(budget_seconds=20)
    assert inbox(fake_esp) == OPT_IN_MAILED
    held = Message.objects.get(campaign=campaign, customer=people["unknown_buyer"])
    assert held.status == MessageStatus.SUPPRESSED and "consent" in held.error


def test_segment_counts_show_how_many_are_mailable(admin_client, people, settings):
    Segment.objects.create(name="Everyone", rules={})
    for policy, mailable in (("opt_in", 2), ("soft_opt_in", 3)):
        settings.CONSENT_POLICY = policy
        response = admin_client.post(
            reverse("admin:journeys_segment_count"), data={"rules": {}}, content_type="application/json"
        )
        assert response.json() == {"count": 6, "mailable": mailable}
        listing = admin_client.get(reverse("admin:campaigns_segment_changelist")).content.decode()
        assert "Mailable now (consent policy)" in listing
        assert f'<td class="field-mailable_count">{mailable}</td>' in listing


def test_an_unknown_consent_policy_stops_start_up_with_the_choices(tmp_path):
    env = {"PATH": os.environ.get("PATH", ""), "VAR_DIR": str(tmp_path), "CONSENT_POLICY": "opt_out"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=django_settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "CONSENT_POLICY must be one of opt_in, soft_opt_in; 'opt_out' is not" in result.stderr
