"""Admin for products, on-site activity, consent proof and the suppression list."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html

from config.admin_base import ReadOnlyAdmin
from customers.formatting import money
from customers.labels import (
    SUPPRESSION_REASONS,
    consent_change_words,
    consent_field_label,
    consent_source_choices,
    consent_source_label,
    suppression_reason_label,
)
from customers.models import Activity, ConsentChange, Product, SuppressedAddress
from customers.timeline import reference_of, references_resolve


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("sku", "name", "category", "price_shown", "tier", "is_active")
    list_filter = ("tier", "is_active", "category")
    search_fields = ("=sku", "name")
    ordering = ("name",)

    @admin.display(description="Price", ordering="price")
    def price_shown(self, obj: Product) -> str:
        return money(obj.price, obj.currency)

    def get_readonly_fields(self, request: HttpRequest, obj: Product | None = None):
        # The sku is the shop's key for the product: imports and the API match on it.
        return ("sku",) if obj is not None else ()


@admin.register(Activity)
class ActivityAdmin(ReadOnlyAdmin):
    list_display = ("occurred_at", "type", "customer", "product")
    list_select_related = ("customer", "product")
    list_filter = ("type",)
    search_fields = ("customer__email", "=customer__external_id")
    ordering = ("-occurred_at",)
    raw_id_fields = ("customer", "product")


class ConsentFieldFilter(admin.SimpleListFilter):
    title = "what changed"
    parameter_name = "field"

    def lookups(self, request, model_admin):
        return [(field, consent_field_label(field)) for field, _ in ConsentChange._meta.get_field("field").choices]

    def queryset(self, request, queryset):
        return queryset.filter(field=self.value()) if self.value() else queryset


class ConsentSourceFilter(admin.SimpleListFilter):
    title = "how"
    parameter_name = "source"

    def lookups(self, request, model_admin):
        return consent_source_choices()

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        return queryset.filter(source__startswith=value) if value.endswith(":") else queryset.filter(source=value)


@admin.register(ConsentChange)
class ConsentChangeAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "customer", "change", "how", "actor", "because")
    list_select_related = ("customer",)
    list_filter = (ConsentFieldFilter, ConsentSourceFilter)
    search_fields = ("customer__email", "actor")
    raw_id_fields = ("customer",)
    fields = ("created_at", "customer", "change", "how", "actor", "because")
    readonly_fields = ("change", "how", "because")

    def get_changelist_instance(self, request: HttpRequest):
        changelist = super().get_changelist_instance(request)
        self._links_for(list(changelist.result_list))
        return changelist

    def _links_for(self, changes: list[ConsentChange]) -> None:
        """Resolve "message:12" details of a whole page at once (one query), not once per row."""
        references = {change.pk: reference_of(change.detail) for change in changes}
        links = references_resolve(r for r in references.values() if r)
        for change in changes:
            change._detail_link = links.get(references[change.pk] or "")

    @admin.display(description="change", ordering="field")
    def change(self, obj: ConsentChange) -> str:
        return consent_change_words(field=obj.field, old=obj.old_value, new=obj.new_value)

    @admin.display(description="how", ordering="source")
    def how(self, obj: ConsentChange) -> str:
        return consent_source_label(obj.source)

    @admin.display(description="detail")
    def because(self, obj: ConsentChange) -> str:
        if not hasattr(obj, "_detail_link"):
            self._links_for([obj])
        link = obj._detail_link
        if link is not None:
            return format_html('<a href="{}">{}</a>', link.url, link.label)
        return obj.detail or "—"


class SuppressionReasonFilter(admin.SimpleListFilter):
    title = "reason"
    parameter_name = "reason"

    def lookups(self, request, model_admin):
        return list(SUPPRESSION_REASONS.items())

    def queryset(self, request, queryset):
        return queryset.filter(reason=self.value()) if self.value() else queryset


@admin.register(SuppressedAddress)
class SuppressedAddressAdmin(ReadOnlyAdmin):
    """Only SHA-256 hashes of addresses are stored."""

    list_display = ("email_hash", "why", "created_at")
    list_filter = (SuppressionReasonFilter,)
    search_fields = ("=email_hash",)
    ordering = ("-created_at",)
    fields = ("email_hash", "why", "created_at")
    readonly_fields = ("why",)

    @admin.display(description="reason", ordering="reason")
    def why(self, obj: SuppressedAddress) -> str:
        return suppression_reason_label(obj.reason)
