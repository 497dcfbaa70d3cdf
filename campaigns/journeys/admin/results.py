from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from campaigns.journeys.models import JourneyCampaign
from campaigns.journeys.recipes import RECIPES
from campaigns.journeys.selectors.results import campaign_attributed_revenue, campaign_incrementality
from campaigns.journeys.services.arbitration import sunset_rule_words
from campaigns.journeys.services.recipes import RecipeError, campaign_create_from_recipe
from config.admin_base import ReadOnlyAdmin


@admin.register(JourneyCampaign)
class JourneyCampaignAdmin(ReadOnlyAdmin):
    """Read-only results per campaign (attributed revenue, incrementality) and the recipe picker."""

    list_display = ["name", "kind", "status", "priority", "holdout_percent"]
    list_filter = ["kind", "status"]
    change_list_template = "admin/journeys/journeycampaign/change_list.html"

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("recipes/", view(self.recipes_view), name="journeys_recipes"),
            path("<int:pk>/results/", view(self.results_view), name="journeys_campaign_results"),
        ] + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return redirect("admin:journeys_campaign_results", pk=object_id)

    def results_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        campaign = get_object_or_404(JourneyCampaign, pk=pk)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Results: {campaign.name}",
            "campaign": campaign,
            "revenue": campaign_attributed_revenue(campaign),
            "lift": campaign_incrementality(campaign),
            "sunset_rule": sunset_rule_words(campaign=campaign),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/journeys/journeycampaign/results.html", context)

    def recipes_view(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST":
            if not request.user.has_perm("campaigns.add_campaign"):
                messages.error(request, "You may not create campaigns.")
                return redirect("admin:journeys_recipes")
            try:
                created = campaign_create_from_recipe(recipe=request.POST.get("recipe", ""), user=request.user)
            except RecipeError as exc:
                messages.error(request, str(exc))
                return redirect("admin:journeys_recipes")
            names = ", ".join(c.name for c in created)
            messages.success(request, f"Created as drafts: {names}. Review the steps, then activate.")
            return redirect(reverse("admin:campaigns_campaign_change", args=[created[0].pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": "Create a campaign from a recipe",
            "recipes": [(key, spec["title"], spec["campaigns"]) for key, spec in RECIPES.items()],
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/journeys/journeycampaign/recipes.html", context)
