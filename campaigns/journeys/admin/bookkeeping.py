from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from campaigns.journeys.models import ABTest, ABVariant, Attribution, CouponCode, Deferral
from campaigns.selectors.campaign_page import DEFERRAL_OUTCOMES, duration_words
from campaigns.templatetags.marketing_admin import money
from config.admin_base import ReadOnlyAdmin


@admin.register(Deferral)
class DeferralAdmin(ReadOnlyAdmin):
    allow_delete = True

    """Why a step waited (frequency cap) and whether it was sent or expired in the end."""

    list_display = ["enrollment", "step", "reason", "first_deferred_at", "deferred_until", "times", "outcome_label"]
    list_filter = ["reason", "outcome"]
    list_select_related = ["step__campaign", "enrollment__customer", "enrollment__campaign"]

    @admin.display(description="Outcome", ordering="outcome")
    def outcome_label(self, obj: Deferral) -> str:
        return DEFERRAL_OUTCOMES.get(obj.outcome, obj.outcome)

    raw_id_fields = ["enrollment", "step"]


@admin.register(CouponCode)
class CouponCodeAdmin(admin.ModelAdmin):
    """Import codes into a pool (pool name + code) to have steps hand them out one per recipient."""

    list_display = ["code", "pool", "message", "assigned_at"]
    list_select_related = ["message__customer", "message__campaign", "message__step__campaign"]
    list_filter = ["pool"]
    search_fields = ["code"]
    raw_id_fields = ["message"]


@admin.register(Attribution)
class AttributionAdmin(ReadOnlyAdmin):
    allow_delete = True

    list_display = ["order", "message", "campaign", "step", "revenue_money", "touch_words", "touched_at"]
    list_filter = ["campaign", "touch"]
    list_select_related = ["order", "campaign", "step__campaign", "message__customer", "message__step__campaign"]
    raw_id_fields = ["order", "message", "step"]

    @admin.display(description="Revenue", ordering="revenue")
    def revenue_money(self, obj: Attribution) -> str:
        return money(obj.revenue, obj.order.currency)

    @admin.display(description="Credited for", ordering="touch")
    def touch_words(self, obj: Attribution) -> str:
        return {"click": "a human click", "open": "a human open"}.get(obj.touch, obj.touch)


class ABVariantInline(admin.TabularInline):
    model = ABVariant
    extra = 1
    autocomplete_fields = ["template"]


@admin.register(ABTest)
class ABTestAdmin(admin.ModelAdmin):
    """Tests are set up from the step on the campaign page ("Set up A/B test"); this list shows them all."""

    list_display = ["step", "sample_size", "decide_after_words", "started_at", "decided_at", "winner", "campaign_page"]
    list_select_related = ["step__campaign", "winner"]
    readonly_fields = ["step", "started_at", "decided_at", "winner", "results"]
    inlines = [ABVariantInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="Picks the winner after", ordering="decide_after")
    def decide_after_words(self, obj: ABTest) -> str:
        return duration_words(obj.decide_after)

    @admin.display(description="Campaign page")
    def campaign_page(self, obj: ABTest) -> str:
        url = reverse("admin:campaigns_campaign_change", args=[obj.step.campaign_id]) + "#campaign-ab"
        return format_html('<a href="{}">{}</a>', url, obj.step.campaign.name)
