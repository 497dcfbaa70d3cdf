"""A journey through the real send path: scheduler tick, then the sender, into the fake ESP."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from campaigns.journeys.services.recipes import campaign_create_from_recipe
from campaigns.journeys.services.tick import journeys_tick
from campaigns.models import Campaign, CampaignStatus, Message, MessageStatus
from campaigns.services.sending import messages_send_due
from tests.fake_esp import FakeESP

pytestmark = pytest.mark.django_db
TOKEN = "journeys-test-token"


@pytest.fixture
def esp(settings):
    with FakeESP(token=TOKEN) as server:
        settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
        settings.ANYMAIL = {"POSTMARK_SERVER_TOKEN": TOKEN, "POSTMARK_API_URL": server.url}
        settings.SEND_RATE_PER_SECOND = 0
        settings.FREQUENCY_CAP_PER_DAY = settings.FREQUENCY_CAP_PER_WEEK = 0
        yield server


def zone_where_it_is(hours: range) -> str:
    """A fixed-offset zone whose local hour right now is in `hours`."""
    for offset in range(-12, 13):
        name = f"Etc/GMT{'+' if offset >= 0 else '-'}{abs(offset)}"
        if timezone.now().astimezone(ZoneInfo(name)).hour in hours:
            return name
    raise AssertionError(f"no zone at hours {hours}")


def test_abandoned_cart_reaches_the_inbox_once_and_waits_for_morning_at_night(esp, customer, activity):
    campaigns = campaign_create_from_recipe(recipe="abandoned_cart", user=None)
    Campaign.objects.filter(pk__in=[c.pk for c in campaigns]).update(status=CampaignStatus.ACTIVE, holdout_percent=0)
    day = customer(email="day@example.com", first_name="Ada", timezone=zone_where_it_is(range(10, 18)))
    night = customer(email="night@example.com", timezone=zone_where_it_is(range(0, 5)))
    two_hours_ago = timezone.now() - timedelta(hours=2)
    for person in (day, night):
        activity(person, "cart_updated", at=two_hours_ago, items=[{"sku": "mug", "name": "Blue mug", "quantity": 1}])

    journeys_tick()
    messages_send_due(budget_seconds=10)
    journeys_tick()
    messages_send_due(budget_seconds=5)

    [received] = esp.messages()
    assert received["To"] == "day@example.com"
    assert received["Subject"] == "Still thinking it over?"
    assert "Blue mug" in received["HtmlBody"]
    waiting = Message.objects.get(customer=night)
    assert waiting.status == MessageStatus.QUEUED and waiting.not_before > timezone.now()
    assert Message.objects.get(customer=day).status == MessageStatus.SENT
