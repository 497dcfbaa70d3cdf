"""Admin: raw open/click events (read-only) and a simple per-campaign statistics page."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from campaigns.models import Campaign
from config.admin_base import ReadOnlyAdmin
from tracking.admin.display import CodeFilter, email_link
from tracking.labels import PROXY_KINDS, VERDICT_REASONS, proxy_kind_label, verdict_label, verdict_reason_label
from tracking.models import TrackedUrl, TrackingEvent
from tracking.selectors.stats import campaign_stats, step_stats


class ReasonFilter(CodeFilter):
    title = "why it is not a person"
    parameter_name = "reason"
    labels = VERDICT_REASONS


class ProxyKindFilter(CodeFilter):
    title = "privacy proxy"
    parameter_name = "proxy_kind"
    labels = PROXY_KINDS


@admin.register(TrackingEvent)
class TrackingEventAdmin(ReadOnlyAdmin):
    change_list_template = "tracking/admin/trackingevent_change_list.html"
    list_display = ["occurred_at", "kind", "verdict_words", "email", "recipient", "link"]
    list_filter = ["verdict", "kind", "counts_as_human", ReasonFilter, ProxyKindFilter, "source"]
    list_select_related = ["message__campaign", "message__customer", "url"]
    search_fields = ["=message__id", "=customer__id", "=customer__email"]
    date_hierarchy = "occurred_at"
    ordering = ["-occurred_at"]
    show_full_result_count = False
    raw_id_fields = ["message", "customer", "url"]
    fields = [
        "occurred_at",
        "kind",
        "verdict_words",
        "reason_words",
        "proxy_words",
        "counts_as_human",
        "email",
        "recipient",
        "link",
        "is_honeypot",
        "method",
        "user_agent",
        "ip",
        "network",
        "source",
        "esp_flags",
        "recorded_at",
        "event_uuid",
    ]
    readonly_fields = fields

    @admin.display(description="verdict", ordering="verdict")
    def verdict_words(self, obj: TrackingEvent) -> str:
        return verdict_label(verdict=obj.verdict, reason=obj.reason, proxy_kind=obj.proxy_kind)

    @admin.display(description="why")
    def reason_words(self, obj: TrackingEvent) -> str:
        return verdict_reason_label(obj.reason) if obj.reason else "—"

    @admin.display(description="privacy proxy")
    def proxy_words(self, obj: TrackingEvent) -> str:
        return proxy_kind_label(obj.proxy_kind) if obj.proxy_kind else "—"

    @admin.display(description="email")
    def email(self, obj: TrackingEvent) -> str:
        return email_link(obj.message)

    @admin.display(description="customer")
    def recipient(self, obj: TrackingEvent) -> str:
        customer = obj.message.customer  # set before the hit is judged, unlike obj.customer
        url = reverse("admin:customers_customer_change", args=[customer.pk])
        return format_html('<a href="{}">{}</a>', url, customer.email)

    @admin.display(description="link clicked")
    def link(self, obj: TrackingEvent) -> str:
        if obj.is_honeypot:
            return "hidden trap link"
        if obj.url is None:
            return "—"
        return format_html('<a href="{}" rel="noopener noreferrer">{}</a>', obj.url.url, obj.url.url[:60])

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
