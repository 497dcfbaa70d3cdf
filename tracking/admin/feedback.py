"""Admin: ESP webhook events, read-only."""

from __future__ import annotations

import json

from django.contrib import admin
from django.utils.html import format_html

from config.admin_base import ReadOnlyAdmin
from tracking.admin.display import CodeFilter, email_link
from tracking.labels import ESP_EVENT_TYPES, REJECT_REASONS, esp_event_type_label, reject_reason_label
from tracking.models import EspEvent


class EventTypeFilter(CodeFilter):
    title = "event"
    parameter_name = "event_type"
    labels = ESP_EVENT_TYPES


class RejectReasonFilter(CodeFilter):
    title = "reject reason"
    parameter_name = "reject_reason"
    labels = REJECT_REASONS


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
        "event_words",
        "reject_words",
        "message_link",
        "esp_message_id",
        "processed_at",
    ]
    list_filter = [EventTypeFilter, "esp", RejectReasonFilter, ProcessedFilter]
    search_fields = ["=esp_message_id", "=event_id"]
    date_hierarchy = "received_at"
    list_select_related = ["message__campaign"]
    ordering = ["-received_at"]
    show_full_result_count = False
    fields = [
        "event_id",
        "esp",
        "event_words",
        "reject_words",
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

    @admin.display(description="event", ordering="event_type")
    def event_words(self, obj: EspEvent) -> str:
        return esp_event_type_label(obj.event_type)

    @admin.display(description="reject reason", ordering="reject_reason")
    def reject_words(self, obj: EspEvent) -> str:
        return reject_reason_label(obj.reject_reason)

    @admin.display(description="email")
    def message_link(self, obj: EspEvent) -> str:
        return email_link(obj.message)

    @admin.display(description="raw payload")
    def raw_pretty(self, obj: EspEvent) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.raw, indent=2, ensure_ascii=False))
