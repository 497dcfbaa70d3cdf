"""Creating campaigns from the built-in recipes (as drafts, ready to review and activate)."""

from __future__ import annotations

from django.db import transaction

from campaigns.journeys.recipes import PRIORITY, RECIPES
from campaigns.journeys.selectors.recipes import recipe_running_campaigns
from campaigns.models import Campaign, CampaignStatus, Segment, Step, Template


class RecipeError(ValueError):
    pass


class RecipeAlreadyRunning(RecipeError):
    """The recipe's campaigns already run: a second copy would mail the same people twice."""

    def __init__(self, recipe: str, running: list[Campaign]) -> None:
        self.recipe, self.running = recipe, running
        names = ", ".join(f"“{c.name}”" for c in running)
        super().__init__(f"{RECIPES[recipe]['title']} is already running: {names}.")


def _templates(names: set[str]) -> dict[str, Template]:
    found = {t.name: t for t in Template.objects.filter(name__in=names)}
    if len(found) < len(names):
        from campaigns.services.templates import starter_templates_load

        starter_templates_load()
        found = {t.name: t for t in Template.objects.filter(name__in=names)}
    missing = sorted(names - set(found))
    if missing:
        raise RecipeError(
            f"Missing email templates {missing}: run `python manage.py load_starter_templates` or create them."
        )
    return found


def _segment(spec: dict | None) -> Segment | None:
    if spec is None:
        return None
    segment, _ = Segment.objects.get_or_create(
        name=spec["name"], defaults={"rules": spec["rules"], "description": "Created by a recipe."}
    )
    return segment


def _unique_name(name: str) -> str:
    candidate, n = name, 2
    while Campaign.objects.filter(name=candidate).exists():
        candidate, n = f"{name} ({n})", n + 1
    return candidate


@transaction.atomic
def campaign_create_from_recipe(*, recipe: str, user=None, again: bool = False) -> list[Campaign]:
    """Create the recipe's campaigns (draft) with segment, steps and defaults; returns them.

    Raises RecipeAlreadyRunning when a campaign from the recipe is active or paused, unless
    `again` says staff saw that and want another copy.
    """
    if recipe not in RECIPES:
        raise RecipeError(f"Unknown recipe {recipe!r}; choose one of {sorted(RECIPES)}")
    if not again and (running := recipe_running_campaigns(recipe=recipe)):
        raise RecipeAlreadyRunning(recipe, running)
    specs = RECIPES[recipe]["campaigns"]
    templates = _templates({step["template"] for spec in specs for step in spec["steps"]})
    campaigns = []
    for spec in specs:
        campaign = Campaign.objects.create(
            name=_unique_name(spec["name"]),
            kind=spec["kind"],
            status=CampaignStatus.DRAFT,
            segment=_segment(spec["segment"]),
            trigger=spec["trigger"],
            trigger_event=spec.get("trigger_event", ""),
            trigger_delay=spec.get("trigger_delay") or Campaign._meta.get_field("trigger_delay").get_default(),
            exit_on=spec["exit_on"],
            priority=PRIORITY[spec["kind"]],
            reentry_days=spec["reentry_days"],
            is_transactional=spec.get("is_transactional", False),
            recipe=recipe,
        )
        Step.objects.bulk_create(
            Step(
                campaign=campaign,
                position=position,
                template=templates[step["template"]],
                delay=step["delay"],
                delay_from=step.get("delay_from", "previous"),
                condition=step.get("condition", {}),
                offer=step.get("offer", {}),
            )
            for position, step in enumerate(spec["steps"], start=1)
        )
        campaigns.append(campaign)
    return campaigns
