"""Which campaigns came from a recipe and still run."""

from __future__ import annotations

import re

from django.db.models import Q

from campaigns.journeys.recipes import RECIPES
from campaigns.models import Campaign, CampaignStatus

RUNNING = (CampaignStatus.ACTIVE, CampaignStatus.PAUSED)


def recipe_running_campaigns(*, recipe: str) -> list[Campaign]:
    """Active or paused campaigns created from `recipe` (older ones, from before campaigns recorded
    their recipe, are recognised by the recipe's name and kind, as in “Win-back (2)”)."""
    by_name = Q()
    for spec in RECIPES[recipe]["campaigns"]:
        pattern = rf"^{re.escape(spec['name'])}( \(\d+\))?$"
        by_name |= Q(recipe="", kind=spec["kind"], name__regex=pattern)
    return list(Campaign.objects.filter(Q(recipe=recipe) | by_name, status__in=RUNNING).order_by("pk"))
