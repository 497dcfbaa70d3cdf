"""Create every recipe's campaigns and activate them, so a demo shop shows mail flowing."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from campaigns.journeys.recipes import RECIPES
from campaigns.journeys.services.recipes import campaign_create_from_recipe
from campaigns.models import Campaign
from campaigns.services.campaign_admin import campaign_activate


class Command(BaseCommand):
    help = "Create and activate the built-in recipes on a demo shop (skipped when campaigns exist)."

    def handle(self, *args, **options) -> None:
        if settings.APP_ENV == "production":
            raise CommandError("create_demo_campaigns is for demo shops, not production.")
        if Campaign.objects.exists():
            self.stdout.write("campaigns already exist: demo campaigns not created")
            return
        user = get_user_model().objects.filter(is_superuser=True).order_by("pk").first()
        if user is None:
            raise CommandError("run create_demo_staff first: activation is recorded against a staff user")
        for recipe in RECIPES:
            for campaign in campaign_create_from_recipe(recipe=recipe, user=user):
                campaign_activate(campaign=campaign, user=user)
                self.stdout.write(f"active   {campaign.name}")
