from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from campaigns.journeys.models import CouponCode
from campaigns.journeys.services.tick import journeys_tick
from campaigns.models import Message

pytestmark = pytest.mark.django_db
NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _no_caps(settings):
    settings.FREQUENCY_CAP_PER_DAY = settings.FREQUENCY_CAP_PER_WEEK = 0


def test_pool_codes_go_one_per_recipient_and_are_recorded(campaign, customer):
    for _ in range(3):
        customer()
    CouponCode.objects.bulk_create([CouponCode(pool="spring", code=f"SPRING-{i}") for i in range(5)])
    campaign(rules={}, steps=[(timedelta(), {"offer": {"type": "amount", "value": 5, "pool": "spring"}})])
    with time_machine.travel(NOON, tick=False):
        journeys_tick()
    codes = [m.context["offer"]["code"] for m in Message.objects.order_by("pk")]
    assert len(set(codes)) == 3 and all(code.startswith("SPRING-") for code in codes)
    assert all(m.context["offer"]["amount_off"] == 5 for m in Message.objects.all())
    assert CouponCode.objects.filter(message__isnull=False).count() == 3
    assert sorted(CouponCode.objects.filter(message__isnull=False).values_list("code", flat=True)) == sorted(codes)


def test_when_the_pool_runs_dry_the_rest_are_skipped_with_the_reason(campaign, customer):
    for _ in range(3):
        customer()
    CouponCode.objects.create(pool="small", code="ONLY-ONE")
    campaign(rules={}, steps=[(timedelta(), {"offer": {"type": "percent", "value": 5, "pool": "small"}})])
    with time_machine.travel(NOON, tick=False):
        journeys_tick()
    [sent] = Message.objects.filter(status="queued")
    assert sent.context["offer"]["code"] == "ONLY-ONE"
    assert (
        list(Message.objects.filter(status="skipped").values_list("error", flat=True))
        == ["offer: coupon pool 'small' is empty"] * 2
    )
