"""The recipe picker, and the old "campaign results" addresses, which now lead to the one campaign page."""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from campaigns.journeys.models import JourneyCampaign
from campaigns.journeys.recipes import RECIPES
from campaigns.journeys.selectors.recipes import recipe_running_campaigns
from campaigns.journeys.services.recipes import RecipeAlreadyRunning, RecipeError, campaign_create_from_recipe
from campaigns.models import Campaign, CampaignKind, Trigger
from config.admin_base import ReadOnlyAdmin


def _recipe_rows() -> list[dict]:
    rows = []
    for key, spec in RECIPES.items():
        campaigns = [
            {
                "name": c["name"],
                "kind": CampaignKind(c["kind"]).label,
                "steps": len(c["steps"]),
                "trigger": Trigger(c["trigger"]).label,
                "events": " or ".join(e.replace("_", " ") for e in c.get("trigger_event", "").split(",") if e),
            }
            for c in spec["campaigns"]
        ]
        rows.append({"key": key, "title": spec["title"], "campaigns": campaigns})
    return rows


@admin.register(JourneyCampaign)
class JourneyCampaignAdmin(ReadOnlyAdmin):
    """Not in the menu: campaigns have one list and one page (the campaign admin). Kept for its URLs."""

    def get_model_perms(self, request: HttpRequest) -> dict[str, bool]:
        return {}  # hidden from the index and the side menu

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("recipes/", view(self.recipes_view), name="journeys_recipes"),
            path("<int:pk>/results/", view(self.results_view), name="journeys_campaign_results"),
            path("", view(self.list_redirect), name="journeys_journeycampaign_changelist"),
        ] + super().get_urls()

    def list_redirect(self, request: HttpRequest) -> HttpResponse:
        return redirect("admin:campaigns_campaign_changelist")

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return redirect("admin:journeys_campaign_results", pk=object_id)

    def results_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        campaign = get_object_or_404(Campaign, pk=pk)
        return redirect(reverse("admin:campaigns_campaign_change", args=[campaign.pk]) + "#campaign-results")

    def recipes_view(self, request: HttpRequest) -> HttpResponse:
        running: list[Campaign] = []
        chosen = ""
        if request.method == "POST":
            if not request.user.has_perm("campaigns.add_campaign"):
                messages.error(request, "You may not create campaigns.")
                return redirect("admin:journeys_recipes")
            chosen = request.POST.get("recipe", "")
            try:
                created = campaign_create_from_recipe(
                    recipe=chosen, user=request.user, again=request.POST.get("again") == "1"
                )
            except RecipeAlreadyRunning as exc:
                running = exc.running
            except RecipeError as exc:
                messages.error(request, str(exc))
                return redirect("admin:journeys_recipes")
            else:
                names = ", ".join(c.name for c in created)
                messages.success(request, f"Created as drafts: {names}. Review the steps, then activate.")
                return redirect(reverse("admin:campaigns_campaign_change", args=[created[0].pk]))
        rows = _recipe_rows()
        for row in rows:
            row["running"] = running if row["key"] == chosen else recipe_running_campaigns(recipe=row["key"])
        context = {
            **self.admin_site.each_context(request),
            "title": "Create a campaign from a recipe",
            "recipes": rows,
            "warning": {"title": RECIPES[chosen]["title"], "key": chosen, "running": running} if running else None,
            "opts": Campaign._meta,
        }
        return TemplateResponse(request, "admin/journeys/journeycampaign/recipes.html", context, status=200)
