"""Shared data builders for the open/click, verdict, buffer, engagement and stats tests."""

from __future__ import annotations

import os
import uuid
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from campaigns.models import Campaign, CampaignKind, Message, MessageStatus, Step, Template
from customers.models import Customer
from tracking.link_rewriting import tracked_url_cache_clear
from tracking.selectors.tracked_urls import tracked_url_targets_clear

# The buffer tests (marked needs_redis) use REDIS_URL; TRACKING_TEST_REDIS_URL may point them at another db.
TEST_REDIS_URL = os.environ.get("TRACKING_TEST_REDIS_URL") or os.environ.get("REDIS_URL", "")


@pytest.fixture(autouse=True)
def _fresh_url_caches(settings):
    """Ids cached by another test may belong to rows its transaction rolled back."""
    settings.TRACKING_BUFFER = False
    tracked_url_cache_clear()
    tracked_url_targets_clear()
    yield
    tracked_url_cache_clear()
    tracked_url_targets_clear()


def make_campaign(name: str = "Spring sale", steps: int = 1) -> Campaign:
    template, _ = Template.objects.get_or_create(name="Tracking test", defaults={"subject": "Hi", "mjml": "<mjml/>"})
    campaign = Campaign.objects.create(name=name, kind=CampaignKind.ONE_OFF)
    for position in range(1, steps + 1):
        Step.objects.create(campaign=campaign, position=position, template=template)
    return campaign


def make_message(
    *,
    customer: Customer | None = None,
    campaign: Campaign | None = None,
    step: Step | None = None,
    sent_at: datetime | None = None,
    delivered_at: datetime | None = None,
) -> Message:
    customer = customer or Customer.objects.create(email=f"c{uuid.uuid4().hex[:10]}@example.test")
    sent_at = sent_at or timezone.now() - timedelta(hours=1)
    return Message.objects.create(
        customer=customer,
        campaign=campaign,
        step=step,
        status=MessageStatus.SENT,
        sent_at=sent_at,
        delivered_at=delivered_at,
    )
