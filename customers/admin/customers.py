"""Customer and order admin: shop data is read-only, history is shown inline and capped."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from customers.admin import shop  # noqa: F401  (registers products, activity, consent proof, suppression)
from customers.admin.csv_import import CsvImportMixin
from customers.admin.gdpr_actions import GdprActionsMixin
from customers.metrics.explain import customer_metric_explanations
from customers.models import Activity, Customer, ImportKind, Order, OrderItem
from customers.services.consent import consent_apply, customer_set_consent
from customers.services.imports.customers_import import COLUMNS as CUSTOMER_COLUMNS
from customers.services.imports.orders_import import COLUMNS as ORDER_COLUMNS
from customers.services.order_aggregates import customer_order_aggregates_refresh
from customers.services.suppression import customer_set_email_status

SHOP_FIELDS = ("email", "external_id", "first_name", "last_name", "timezone", "locale", "created_at")
METRIC_FIELDS = (
    "tier",
    "orders_count",
    "total_spent",
    "average_order_value",
    "first_order_at",
    "last_order_at",
    "mean_days_between_orders",
    "recency_score",
    "frequency_score",
    "monetary_score",
    "rfm_segment",
    "lifecycle_stage",
    "churn_risk",
    "p_alive",
    "expected_purchases_90d",
    "expected_order_value",
    "predicted_value",
    "engagement_score",
    "last_engaged_at",
    "metrics_computed_at",
)


class LimitedInlineFormSet(BaseInlineFormSet):
    """Shows only the newest `limit` rows, so a customer with thousands of them loads fast."""

    limit = 20

    def get_queryset(self):
        if not hasattr(self, "_limited"):
            self._limited = list(super().get_queryset()[: self.limit])
        return self._limited


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class RecentOrdersInline(ReadOnlyInline):
    model = Order
    verbose_name_plural = f"Latest {LimitedInlineFormSet.limit} orders"
    formset = LimitedInlineFormSet
    fields = readonly_fields = ("external_id", "placed_at", "total", "currency")
    ordering = ("-placed_at", "-id")


class RecentActivityFormSet(LimitedInlineFormSet):
    limit = 30


class RecentActivityInline(ReadOnlyInline):
    model = Activity
    verbose_name_plural = f"Latest {RecentActivityFormSet.limit} activities"
    formset = RecentActivityFormSet
    fields = readonly_fields = ("type", "product", "occurred_at", "properties")
    ordering = ("-occurred_at", "-id")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Activity]:
        return super().get_queryset(request).select_related("product")


@admin.register(Customer)
class CustomerAdmin(GdprActionsMixin, CsvImportMixin, admin.ModelAdmin):
    list_display = (
        "email",
        "full_name",
        "external_id",
        "email_status",
        "consent",
        "lifecycle_stage",
        "rfm_segment",
        "orders_count",
        "total_spent",
        "last_order_at",
        "created_at",
    )
    list_filter = ("email_status", "consent", "lifecycle_stage", "rfm_segment", "tier")
    search_fields = ("email", "first_name", "last_name", "=external_id")
    ordering = ("-created_at",)
    show_full_result_count = False
    inlines = (RecentOrdersInline, RecentActivityInline)
    csv_columns = ",".join(sorted(CUSTOMER_COLUMNS))
    csv_kind = ImportKind.CUSTOMERS
    csv_permission = "customers.import_customers"

    def get_fieldsets(self, request: HttpRequest, obj: Customer | None = None):
        fieldsets = [
            ("Shop data", {"fields": SHOP_FIELDS}),
            ("Subscription", {"fields": ("email_status", "consent", "consent_source", "consent_at")}),
        ]
        if obj is not None:
            fieldsets.append(("What the metrics say", {"fields": ("metrics_explained",)}))
            fieldsets.append(("Metrics", {"fields": METRIC_FIELDS, "classes": ("collapse",)}))
            fieldsets.append(("History", {"fields": ("all_history", "updated_at")}))
        return fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj: Customer | None = None):
        fields = ("consent_source", "consent_at", *METRIC_FIELDS)
        if obj is not None:
            fields = (*SHOP_FIELDS, *fields, "metrics_explained", "all_history", "updated_at")
        return fields

    @admin.display(description="Metrics")
    def metrics_explained(self, obj: Customer) -> str:
        rows = format_html_join(
            "",
            "<tr><th>{}</th><td>{}</td><td>{}</td></tr>",
            customer_metric_explanations(obj),
        )
        return format_html('<table class="metrics-explained">{}</table>', rows)

    @admin.display(description="All history")
    def all_history(self, obj: Customer) -> str:
        query = f"?customer__id__exact={obj.pk}"
        return format_html(
            '<a href="{}{}">All {} orders</a> · <a href="{}{}">All activity</a>',
            reverse("admin:customers_order_changelist"),
            query,
            obj.orders_count,
            reverse("admin:customers_activity_changelist"),
            query,
        )

    def save_model(self, request: HttpRequest, obj: Customer, form, change: bool) -> None:
        actor = request.user.get_username()
        if not change:
            proof = None
            if obj.consent != Customer._meta.get_field("consent").default:
                proof = consent_apply(customer=obj, consent=obj.consent, source="admin", actor=actor, is_new=True)
            super().save_model(request, obj, form, change)
            if proof is not None:
                proof.save()
            return
        # Subscription changes go through the services so that every change leaves proof.
        if "email_status" in form.changed_data:
            customer_set_email_status(customer=obj, status=obj.email_status, source="admin", actor=actor)
        if "consent" in form.changed_data:
            customer_set_consent(customer=obj, consent=obj.consent, source="admin", actor=actor)


class OrderItemInline(ReadOnlyInline):
    model = OrderItem
    show_change_link = False
    fields = readonly_fields = ("sku", "product", "product_name", "category", "quantity", "unit_price")

    def get_queryset(self, request: HttpRequest) -> QuerySet[OrderItem]:
        return super().get_queryset(request).select_related("product")


@admin.register(Order)
class OrderAdmin(CsvImportMixin, admin.ModelAdmin):
    """Orders come from the shop (API or CSV): viewable, deletable, never edited by hand."""

    list_display = ("external_id", "customer", "placed_at", "total", "currency")
    list_select_related = ("customer",)
    list_filter = ("currency",)
    search_fields = ("=external_id", "customer__email", "=customer__external_id")
    ordering = ("-placed_at",)
    show_full_result_count = False
    raw_id_fields = ("customer",)
    inlines = (OrderItemInline,)
    csv_columns = ",".join(sorted(ORDER_COLUMNS))
    csv_kind = ImportKind.ORDERS
    csv_permission = "customers.import_orders"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: Order) -> None:
        super().delete_model(request, obj)
        customer_order_aggregates_refresh(customer_ids=[obj.customer_id])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        customer_ids = set(queryset.values_list("customer_id", flat=True))
        super().delete_queryset(request, queryset)
        customer_order_aggregates_refresh(customer_ids=customer_ids)
