"""Admin for products, on-site activity, consent proof and the suppression list."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from config.admin_base import ReadOnlyAdmin
from customers.models import Activity, ConsentChange, Product, SuppressedAddress


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("sku", "name", "category", "price", "currency", "tier", "is_active")
    list_filter = ("tier", "is_active", "category")
    search_fields = ("=sku", "name")
    ordering = ("name",)

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


@admin.register(ConsentChange)
class ConsentChangeAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "customer", "field", "old_value", "new_value", "source", "actor")
    list_select_related = ("customer",)
    list_filter = ("field", "source")
    search_fields = ("customer__email", "actor")
    raw_id_fields = ("customer",)


@admin.register(SuppressedAddress)
class SuppressedAddressAdmin(ReadOnlyAdmin):
    """Only SHA-256 hashes of addresses are stored."""

    list_display = ("email_hash", "reason", "created_at")
    list_filter = ("reason",)
    search_fields = ("=email_hash",)
    ordering = ("-created_at",)
