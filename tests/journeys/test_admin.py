from __future__ import annotations

import json

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign, Enrollment, Segment
from customers.signals import shop_event_recorded

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, django_user_model):
    user = django_user_model.objects.create_superuser("boss", "boss@example.com", "pw")
    client.force_login(user)
    return client


def test_live_count_endpoint_counts_or_explains(staff, customer):
    customer(lifecycle_stage="active")
    customer(lifecycle_stage="active")
    customer(lifecycle_stage="lapsed")
    url = reverse("admin:journeys_segment_count")
    ok = staff.post(
        url,
        json.dumps({"rules": {"field": "lifecycle_stage", "op": "eq", "value": "active"}}),
        content_type="application/json",
    )
    assert ok.json() == {"count": 2, "mailable": 2}
    bad = staff.post(
        url,
        json.dumps({"rules": {"field": "lifecycle_stage", "op": "eq", "value": "zombie"}}),
        content_type="application/json",
    )
    assert bad.status_code == 400 and "zombie" in bad.json()["errors"][0]


def test_segment_pages_show_counts_and_script(staff, customer):
    customer(tier="premium")
    segment = Segment.objects.create(name="Premium", rules={"field": "tier", "op": "eq", "value": "premium"})
    listing = staff.get(reverse("admin:campaigns_segment_changelist"))
    assert listing.status_code == 200
    assert '<td class="field-customer_count">1</td>' in listing.content.decode()
    form = staff.get(reverse("admin:campaigns_segment_change", args=[segment.pk]))
    assert "journeys/segment_count.js" in form.content.decode()
    refused = staff.post(
        reverse("admin:campaigns_segment_change", args=[segment.pk]),
        {"name": "Premium", "description": "", "rules": '{"field": "tier", "op": "gt", "value": 1}'},
    )
    assert refused.status_code == 200 and "tier takes one of" in refused.content.decode()


def test_create_from_recipe_button_and_results_page(staff):
    old_list = staff.get(reverse("admin:journeys_journeycampaign_changelist"))
    assert old_list.status_code == 302 and old_list["Location"] == reverse("admin:campaigns_campaign_changelist")
    listing = staff.get(reverse("admin:campaigns_campaign_changelist"))
    assert "Create from recipe" in listing.content.decode()
    assert "Win-back" in staff.get(reverse("admin:journeys_recipes")).content.decode()
    response = staff.post(reverse("admin:journeys_recipes"), {"recipe": "win_back"})
    campaign = Campaign.objects.get(name="Win-back")
    assert response.status_code == 302 and campaign.steps.count() == 3
    results = staff.get(reverse("admin:journeys_campaign_results", args=[campaign.pk]), follow=True)
    page = results.content.decode()
    assert results.redirect_chain[-1][0].startswith(reverse("admin:campaigns_campaign_change", args=[campaign.pk]))
    assert "Results over time" in page and "Holdout comparison" in page


def test_goal_event_from_the_api_ends_journeys_at_once(campaign, customer, order):
    person = customer()
    journey = campaign(exit_on=["order_placed"])
    enrollment = Enrollment.objects.create(campaign=journey, customer=person, entered_at=timezone.now())
    placed = order(person)
    shop_event_recorded.send(
        "event_api", customer_id=person.pk, event_type="order_placed", occurred_at=placed.placed_at
    )
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.exit_reason) == ("exited", "goal: order_placed")
