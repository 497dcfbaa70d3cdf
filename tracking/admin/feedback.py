"""Admin: ESP webhook events, read-only."""

from __future__ import annotations

import json

from django.contrib import admin
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

from config.admin_base import ReadOnlyAdmin
from tracking.models import EspEvent


class ProcessedFilter(admin.SimpleListFilter):
    title = "processed"
    parameter_name = "processed"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No (pending)")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(processed_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(processed_at__isnull=True)
        return queryset


@admin.register(EspEvent)
class EspEventAdmin(ReadOnlyAdmin):
    list_display = [
        "received_at",
        "esp",
        "event_type",
        "reject_reason",
        "message_link",
        "esp_message_id",
        "processed_at",
    ]
    list_filter = ["event_type", "esp", "reject_reason", ProcessedFilter]
    search_fields = ["=esp_message_id", "=event_id"]
    date_hierarchy = "received_at"
    list_select_related = ["message"]
    ordering = ["-received_at"]
    show_full_result_count = False
    fields = [
        "event_id",
        "esp",
        "event_type",
        "reject_reason",
        "description",
        "message_link",
        "esp_message_id",
        "recipient_hash",
        "occurred_at",
        "received_at",
        "processed_at",
        "raw_pretty",
    ]
    readonly_fields = fields

    @admin.display(description="message")
    def message_link(self, obj: EspEvent) -> str:
        if obj.message_id is None:
            return "—"
        try:
            url = reverse("admin:campaigns_message_change", args=[obj.message_id])
        except NoReverseMatch:
            return str(obj.message_id)
        return format_html('<a href="{}">{}</a>', url, obj.message_id)

    @admin.display(description="raw payload")
    def raw_pretty(self, obj: EspEvent) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.raw, indent=2, ensure_ascii=False))
