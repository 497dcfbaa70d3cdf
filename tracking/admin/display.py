"""Display helpers shared by the tracking admin pages."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.html import format_html

from campaigns.models import Message


class CodeFilter(admin.SimpleListFilter):
    """Filter on a code column, offering the codes in words (no query to list them)."""

    labels: dict[str, str] = {}

    def lookups(self, request, model_admin):
        return list(self.labels.items())

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        return queryset.filter(**{self.parameter_name: self.value()}) if self.value() else queryset


def email_link(message: Message | None) -> str:
    """The email in words (subject and campaign), linked to its admin page."""
    if message is None:
        return "—"
    subject = message.subject or f"Email #{message.pk}"
    label = f"“{subject}”" + (f" · {message.campaign.name}" if message.campaign_id else "")
    return format_html('<a href="{}">{}</a>', reverse("admin:campaigns_message_change", args=[message.pk]), label)
