from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from campaigns.journeys.models import CouponCode
from campaigns.journeys.services.recipes import RecipeAlreadyRunning, RecipeError, campaign_create_from_recipe
from campaigns.journeys.services.tick import journeys_tick
from campaigns.models import Campaign, CampaignStatus, Enrollment, Message, MessageStatus
from campaigns.rendering import message_render
from customers.models import Product

pytestmark = pytest.mark.django_db
NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.FREQUENCY_CAP_PER_DAY = settings.FREQUENCY_CAP_PER_WEEK = 0


def activate(recipe: str) -> list[Campaign]:
    campaigns = campaign_create_from_recipe(recipe=recipe, user=None)
    assert all(c.status == CampaignStatus.DRAFT for c in campaigns)
    assert all(c.holdout_percent == 10 for c in campaigns)
    # No control group here: these tests follow every recipient (holdout has its own tests).
    Campaign.objects.filter(pk__in=[c.pk for c in campaigns]).update(status=CampaignStatus.ACTIVE, holdout_percent=0)
    return campaigns


def tick_at(moment: datetime) -> None:
    with time_machine.travel(moment, tick=False):
        journeys_tick()


def html_of(message: Message) -> str:
    return message_render(version=message.template_version, customer=message.customer, extra=message.context).html


def queued(**filters) -> list[Message]:
    return list(Message.objects.filter(status=MessageStatus.QUEUED, **filters).order_by("pk"))


def test_abandoned_cart_leads_and_customers_get_their_own_reminders(customer, activity, order):
    activate("abandoned_cart")
    lead = customer(email="lead@example.com")
    regular = customer(email="regular@example.com", orders_count=2)
    buyer = customer(email="buyer@example.com", orders_count=1)
    with time_machine.travel(NOON, tick=False):
        activity(lead, "cart_updated", items=[{"sku": "mug", "name": "Blue mug", "quantity": 1, "unit_price": "9.50"}])
        activity(regular, "checkout_started", items=[{"sku": "tea", "name": "Green tea", "quantity": 3}])
        activity(buyer, "cart_updated", items=[{"sku": "pot", "name": "Tea pot"}])
    tick_at(NOON + timedelta(minutes=5))
    with time_machine.travel(NOON + timedelta(minutes=30), tick=False):
        order(buyer)
    tick_at(NOON + timedelta(minutes=59))
    assert queued() == []
    tick_at(NOON + timedelta(hours=1))
    first = {m.customer.email: m for m in queued()}
    assert set(first) == {"lead@example.com", "regular@example.com"}
    assert first["lead@example.com"].template_version.template.name == "Abandoned cart: lead"
    assert first["regular@example.com"].template_version.template.name == "Abandoned cart: customer"
    assert "Blue mug" in html_of(first["lead@example.com"])
    assert "Green tea" in html_of(first["regular@example.com"])
    assert Enrollment.objects.get(customer=buyer).exit_reason == "goal: order_placed"
    tick_at(NOON + timedelta(hours=24, minutes=59))
    assert len(queued()) == 2
    with time_machine.travel(NOON + timedelta(hours=3), tick=False):
        order(regular)
    tick_at(NOON + timedelta(hours=25))
    assert [m.customer.email for m in queued(step__position=2)] == ["lead@example.com"]


def test_upsell_trial_offer_onboarding_and_reminder_before_end(customer, activity):
    offer_campaign, onboarding = activate("upsell_trial")
    keen = customer(email="keen@example.com", engagement_score=70, orders_count=2)
    customer(email="premium@example.com", engagement_score=90, orders_count=2, tier="premium")
    tick_at(NOON)
    [offer] = queued(campaign=offer_campaign)
    assert offer.customer == keen
    assert offer.context["offer"]["code"].startswith("TRIAL-")
    assert CouponCode.objects.get(message=offer).code == offer.context["offer"]["code"]
    assert offer.context["offer"]["code"] in html_of(offer)
    started = NOON + timedelta(days=1)
    with time_machine.travel(started, tick=False):
        activity(keen, "trial_started", ends_at=(started + timedelta(days=7)).isoformat())
    tick_at(started + timedelta(minutes=1))
    assert [m.template_version.template.name for m in queued(campaign=onboarding)] == [
        "Upsell trial: get the most out of it"
    ]
    tick_at(started + timedelta(days=5, hours=23))
    assert len(queued(campaign=onboarding)) == 1
    tick_at(started + timedelta(days=6))
    assert queued(campaign=onboarding)[-1].template_version.template.name == "Upsell trial: trial ending"


def test_trial_converted_ends_the_onboarding(customer, activity):
    _, onboarding = activate("upsell_trial")
    person = customer(engagement_score=10)
    with time_machine.travel(NOON, tick=False):
        activity(person, "trial_started", ends_at=(NOON + timedelta(days=7)).isoformat())
    tick_at(NOON + timedelta(minutes=1))
    with time_machine.travel(NOON + timedelta(days=2), tick=False):
        activity(person, "trial_converted")
    tick_at(NOON + timedelta(days=6))
    assert Enrollment.objects.get(campaign=onboarding).exit_reason == "goal: trial_converted"
    # Only the welcome step exists; being still unsent when the goal came, it was withdrawn.
    [welcome] = Message.objects.filter(campaign=onboarding)
    assert (welcome.step.position, welcome.status) == (1, MessageStatus.SKIPPED)
    assert welcome.error == "exited before sending (goal: trial_converted)"


def test_cross_sell_recommends_categories_co_bought_by_similar_buyers(customer, order):
    activate("cross_sell")
    for sku, category in [("shoe-1", "shoes"), ("sock-1", "socks"), ("lace-1", "laces"), ("hat-1", "hats")]:
        Product.objects.create(sku=sku, name=sku.title(), category=category, price=10)
    first, second = customer(), customer()
    with time_machine.travel(NOON - timedelta(days=60), tick=False):
        order(first, items=[("shoe-1", "shoes"), ("sock-1", "socks")])
        order(second, items=[("shoe-1", "shoes"), ("sock-1", "socks"), ("lace-1", "laces")])
        order(customer(), items=[("hat-1", "hats")])
    target = customer(email="target@example.com")
    with time_machine.travel(NOON, tick=False):
        order(target, items=[("shoe-1", "shoes")])
    tick_at(NOON + timedelta(minutes=1))
    tick_at(NOON + timedelta(days=13, hours=23))
    assert queued() == []
    tick_at(NOON + timedelta(days=14))
    [message] = queued()
    assert message.customer == target
    assert [p["sku"] for p in message.context["recommended_products"]] == ["sock-1", "lace-1"]
    assert "Sock-1" in html_of(message)


def test_loyalty_offer_and_fifth_order_thank_you(customer, order):
    offer_campaign, thanks = activate("loyalty")
    champion = customer(email="champ@example.com", rfm_segment="champions", orders_count=9)
    customer(email="whale@example.com", predicted_value=900, orders_count=1)
    customer(email="plain@example.com", rfm_segment="hibernating", orders_count=1)
    fifth = customer(email="fifth@example.com", orders_count=5)
    with time_machine.travel(NOON, tick=False):
        order(fifth)
        order(champion)
    tick_at(NOON + timedelta(minutes=1))
    offers = queued(campaign=offer_campaign)
    assert {m.customer.email for m in offers} == {"champ@example.com", "whale@example.com"}
    assert all(m.context["offer"]["code"].startswith("VIP-") for m in offers)
    assert len({m.context["offer"]["code"] for m in offers}) == 2
    tick_at(NOON + timedelta(hours=2))
    assert [m.customer.email for m in queued(campaign=thanks)] == ["fifth@example.com"]


def test_win_back_three_steps_exit_on_order(customer, order):
    activate("win_back")
    now = NOON
    overdue = customer(email="overdue@example.com", orders_count=4, mean_days_between_orders=10)
    returning = customer(email="returning@example.com", orders_count=3, churn_risk=0.8)
    customer(email="ontime@example.com", orders_count=3, mean_days_between_orders=60, last_order_at=now - timedelta(20))
    with time_machine.travel(now - timedelta(days=25), tick=False):
        order(overdue, items=[("kettle", "kitchen")])
        order(returning, items=[("mug", "kitchen")])
    overdue.last_order_at = now - timedelta(days=25)
    overdue.save()
    tick_at(now)
    assert {m.customer.email for m in queued()} == {"overdue@example.com", "returning@example.com"}
    assert "Kettle" in html_of(queued(customer=overdue)[0])
    with time_machine.travel(now + timedelta(days=3), tick=False):
        order(returning)
    tick_at(now + timedelta(days=7))
    [gift] = queued(step__position=2)
    assert gift.customer == overdue and gift.context["offer"]["code"].startswith("BACK-")
    tick_at(now + timedelta(days=13))
    assert [m.customer.email for m in queued(step__position=3)] == ["overdue@example.com"]
    assert Enrollment.objects.get(customer=returning).exit_reason == "goal: order_placed"


def test_unknown_recipe_is_refused():
    with pytest.raises(RecipeError):
        campaign_create_from_recipe(recipe="spam", user=None)


def test_category_best_sellers_load_on_first_use_even_just_after_boot(customer, order, monkeypatch):
    # A never-filled cache is stale whatever the monotonic clock reads (it starts near 0 at boot).
    from campaigns.journeys.selectors import message_context

    Product.objects.create(sku="shoe-1", name="Shoe", category="shoes", price=10)
    order(customer(), items=[("shoe-1", "shoes")], at=timezone.now() - timedelta(days=1))
    import time

    since_boot = [5.0]
    monkeypatch.setattr(time, "monotonic", lambda: since_boot[0])
    best_sellers = message_context.best_sellers_by_category
    assert best_sellers.cache.timer() == 5.0, "the cache must read the clock this test sets"
    best = best_sellers(timezone.now() - timedelta(days=90))
    assert [p["sku"] for p in best["shoes"]] == ["shoe-1"]

    # shoe-2 outsells it; the figures loaded at boot stand for the cache's lifetime, then refresh.
    Product.objects.create(sku="shoe-2", name="Boot", category="shoes", price=10)
    for _ in range(2):
        order(customer(), items=[("shoe-2", "shoes")], at=timezone.now() - timedelta(days=1))
    since_boot[0] = 5.0 + message_context.CACHE_TTL_SECONDS - 1
    assert [p["sku"] for p in best_sellers(timezone.now() - timedelta(days=90))["shoes"]] == ["shoe-1"]
    since_boot[0] = 5.0 + message_context.CACHE_TTL_SECONDS + 1
    assert [p["sku"] for p in best_sellers(timezone.now() - timedelta(days=90))["shoes"]] == ["shoe-2", "shoe-1"]


def test_a_running_recipe_is_created_again_only_when_asked():
    first = activate("win_back")
    with pytest.raises(RecipeAlreadyRunning) as refused:
        campaign_create_from_recipe(recipe="win_back", user=None)
    assert refused.value.running == first and Campaign.objects.count() == 1
    again = campaign_create_from_recipe(recipe="win_back", user=None, again=True)
    assert again[0].name == "Win-back (2)" and again[0].recipe == "win_back"


def test_a_draft_from_the_recipe_does_not_block_another():
    campaign_create_from_recipe(recipe="win_back", user=None)
    assert len(campaign_create_from_recipe(recipe="win_back", user=None)) == 1
