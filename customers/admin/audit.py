"""The audit trail: Django's admin log (campaign actions, GDPR exports and erasures, edits), read-only."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.http import HttpRequest


class AuditTrailAdmin(admin.ModelAdmin):
    list_display = ("action_time", "user", "content_type", "object_repr", "action_flag", "change_message")
    list_filter = ("action_flag", "content_type")
    list_select_related = ("user", "content_type")
    search_fields = ("object_repr", "change_message", "user__username", "=object_id")
    date_hierarchy = "action_time"
    show_full_result_count = False
    readonly_fields = [field.name for field in LogEntry._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: LogEntry | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: LogEntry | None = None) -> bool:
        return False


if not admin.site.is_registered(LogEntry):
    admin.site.register(LogEntry, AuditTrailAdmin)
