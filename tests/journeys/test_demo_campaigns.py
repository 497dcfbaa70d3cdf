"""`make run` activates every recipe on the demo shop, so mail starts flowing at once."""

import pytest
from django.core.management import call_command

from campaigns.journeys.recipes import RECIPES
from campaigns.journeys.services.tick import journeys_tick
from campaigns.models import Campaign, CampaignStatus, Message

pytestmark = pytest.mark.django_db


def test_demo_campaigns_are_created_active_and_plan_mail(capsys):
    call_command("load_starter_templates")
    call_command("seed_demo", customers=80, seed=3)
    call_command("compute_customer_metrics")
    call_command("create_demo_staff")

    call_command("create_demo_campaigns")

    campaigns = Campaign.objects.all()
    assert campaigns.count() >= len(RECIPES)
    assert set(campaigns.values_list("status", flat=True)) == {CampaignStatus.ACTIVE}
    journeys_tick()
    assert Message.objects.exists()

    call_command("create_demo_campaigns")  # a second run changes nothing
    assert Campaign.objects.count() == campaigns.count()
    assert "already exist" in capsys.readouterr().out
