from __future__ import annotations

from django.contrib import admin

from campaigns.journeys.models import ABTest, ABVariant, Attribution, CouponCode, Deferral
from config.admin_base import ReadOnlyAdmin


@admin.register(Deferral)
class DeferralAdmin(ReadOnlyAdmin):
    allow_delete = True

    """Why a step waited (frequency cap) and whether it was sent or expired in the end."""

    list_display = ["enrollment", "step", "reason", "first_deferred_at", "deferred_until", "times", "outcome"]
    list_filter = ["reason", "outcome"]
    list_select_related = ["step__campaign"]
    raw_id_fields = ["enrollment", "step"]


@admin.register(CouponCode)
class CouponCodeAdmin(admin.ModelAdmin):
    """Import codes into a pool (pool name + code) to have steps hand them out one per recipient."""

    list_display = ["code", "pool", "message", "assigned_at"]
    list_filter = ["pool"]
    search_fields = ["code"]
    raw_id_fields = ["message"]


@admin.register(Attribution)
class AttributionAdmin(ReadOnlyAdmin):
    allow_delete = True

    list_display = ["order", "campaign", "step", "revenue", "touch", "touched_at"]
    list_filter = ["campaign", "touch"]
    raw_id_fields = ["order", "message", "step"]


class ABVariantInline(admin.TabularInline):
    model = ABVariant
    extra = 1
    autocomplete_fields = ["template"]


@admin.register(ABTest)
class ABTestAdmin(admin.ModelAdmin):
    """Test a step's template (arm A) against variant templates, e.g. the same email with another subject."""

    list_display = ["step", "sample_size", "decide_after", "started_at", "decided_at", "winner"]
    raw_id_fields = ["step"]
    readonly_fields = ["started_at", "decided_at", "winner", "results"]
    inlines = [ABVariantInline]
