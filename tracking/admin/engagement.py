"""Admin: raw open/click events (read-only) and a simple per-campaign statistics page."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse

from campaigns.models import Campaign
from config.admin_base import ReadOnlyAdmin
from tracking.models import TrackedUrl, TrackingEvent
from tracking.selectors.stats import campaign_stats, step_stats


@admin.register(TrackingEvent)
class TrackingEventAdmin(ReadOnlyAdmin):
    change_list_template = "tracking/admin/trackingevent_change_list.html"
    list_display = ["occurred_at", "kind", "verdict", "proxy_kind", "reason", "counts_as_human", "message_id", "source"]
    list_filter = ["verdict", "kind", "counts_as_human", "proxy_kind", "reason", "source"]
    search_fields = ["=message__id", "=customer__id"]
    date_hierarchy = "occurred_at"
    ordering = ["-occurred_at"]
    show_full_result_count = False
    raw_id_fields = ["message", "customer", "url"]

    def get_urls(self):
        stats = path("stats/", self.admin_site.admin_view(self.stats_view), name="tracking_engagement_stats")
        return [stats, *super().get_urls()]

    def stats_view(self, request: HttpRequest) -> HttpResponse:
        campaigns = {c.pk: c for c in Campaign.objects.order_by("-created_at")[:200]}
        rows = [(campaigns[key], stats) for key, stats in campaign_stats(campaign_ids=list(campaigns)).items()]
        rows.sort(key=lambda row: row[0].created_at, reverse=True)
        selected = campaigns.get(int(request.GET["campaign"])) if request.GET.get("campaign", "").isdigit() else None
        steps = []
        if selected is not None:
            positions = dict(selected.steps.values_list("pk", "position"))
            steps = sorted(
                ((positions.get(key), stats) for key, stats in step_stats(campaign_id=selected.pk).items()),
                key=lambda row: (row[0] is None, row[0] or 0),
            )
        context = {
            **self.admin_site.each_context(request),
            "title": "Opens and clicks: people vs machines",
            "rows": rows,
            "selected": selected,
            "steps": steps,
            "events_url": reverse("admin:tracking_trackingevent_changelist"),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "tracking/admin/engagement_stats.html", context)


@admin.register(TrackedUrl)
class TrackedUrlAdmin(ReadOnlyAdmin):
    list_display = ["id", "url", "created_at"]
    search_fields = ["url"]
    ordering = ["-id"]
    show_full_result_count = False
