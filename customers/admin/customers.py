"""Customer and order admin: shop data is read-only, history is shown inline and capped."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from customers.admin import shop  # noqa: F401  (registers products, activity, consent proof, suppression)
from customers.admin.csv_import import CsvImportMixin
from customers.admin.gdpr_actions import GdprActionsMixin
from customers.formatting import money, number, percent
from customers.labels import consent_source_label
from customers.metrics.explain import customer_metric_explanations
from customers.metrics.writer import COLUMNS as METRIC_COLUMNS
from customers.models import Activity, Customer, ImportKind, Order, OrderItem
from customers.selectors import consent_policy_summary
from customers.services.consent import consent_apply, customer_set_consent
from customers.services.imports.customers_import import COLUMNS as CUSTOMER_COLUMNS
from customers.services.imports.orders_import import COLUMNS as ORDER_COLUMNS
from customers.services.order_aggregates import customer_order_aggregates_refresh
from customers.services.suppression import customer_set_email_status
from customers.timeline import TimelineCursor, customer_timeline

SHOP_FIELDS = ("email", "external_id", "first_name", "last_name", "timezone", "locale", "created_at")
METRIC_FIELDS = (
    "tier",
    *(name for name, _ in METRIC_COLUMNS),
    "engagement_score",
    "last_engaged_at",
    "metrics_computed_at",
)
# The metrics as shown: money in the shop's currency, shares as percentages, one number format.
_FORMATTED = {
    "total_spent": "spent",
    "average_order_value": "average_order",
    "mean_days_between_orders": "usual_gap",
    "churn_risk": "churn_risk_pct",
    "p_alive": "p_alive_pct",
    "expected_purchases_90d": "expected_orders_90d",
    "expected_order_value": "expected_order",
    "predicted_value": "predicted",
    "engagement_score": "engagement",
}
METRIC_DISPLAY = tuple(_FORMATTED.get(name, name) for name in METRIC_FIELDS)
TIMELINE_PARAM = "timeline_before"


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
    fields = readonly_fields = ("external_id", "placed_at", "amount")
    ordering = ("-placed_at", "-id")

    @admin.display(description="Total")
    def amount(self, obj: Order) -> str:
        return money(obj.total, obj.currency)


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
        "spent",
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
    change_form_template = "admin/customers/customer/change_form.html"

    def render_change_form(self, request: HttpRequest, context, add=False, change=False, form_url="", obj=None):
        # Only once the object is found and the user may see it; not on a POST that failed validation.
        if obj is not None and obj.pk is not None and request.method == "GET":
            cursor = TimelineCursor.parse(request.GET.get(TIMELINE_PARAM))
            context["timeline"] = customer_timeline(customer_id=obj.pk, cursor=cursor)
            context["timeline_param"] = TIMELINE_PARAM
            context["timeline_is_older_page"] = cursor is not None
        return super().render_change_form(request, context, add, change, form_url, obj)

    @admin.display(description="Consent source")
    def consent_how(self, obj: Customer) -> str:
        return consent_source_label(obj.consent_source) if obj.consent_source else "—"

    @admin.display(description="Spent", ordering="total_spent")
    def spent(self, obj: Customer) -> str:
        return money(obj.total_spent)

    @admin.display(description="Average order value", ordering="average_order_value")
    def average_order(self, obj: Customer) -> str:
        return money(obj.average_order_value)

    @admin.display(description="Usual gap between orders")
    def usual_gap(self, obj: Customer) -> str:
        gap = obj.mean_days_between_orders
        return "—" if gap is None else f"{number(gap)} days"

    @admin.display(description="Churn risk")
    def churn_risk_pct(self, obj: Customer) -> str:
        return percent(obj.churn_risk)

    @admin.display(description="Probability still a customer")
    def p_alive_pct(self, obj: Customer) -> str:
        return percent(obj.p_alive)

    @admin.display(description="Expected orders, next 90 days")
    def expected_orders_90d(self, obj: Customer) -> str:
        return number(obj.expected_purchases_90d, 2)

    @admin.display(description="Expected order value")
    def expected_order(self, obj: Customer) -> str:
        return money(obj.expected_order_value)

    @admin.display(description="Predicted value")
    def predicted(self, obj: Customer) -> str:
        return money(obj.predicted_value)

    @admin.display(description="Engagement score")
    def engagement(self, obj: Customer) -> str:
        return number(obj.engagement_score, 1)

    change_list_template = "admin/customers/customer_change_list.html"

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        extra_context = {**(extra_context or {}), "consent_policy": consent_policy_summary()}
        return super().changelist_view(request, extra_context=extra_context)

    def get_fieldsets(self, request: HttpRequest, obj: Customer | None = None):
        fieldsets = [
            ("Shop data", {"fields": SHOP_FIELDS}),
            ("Subscription", {"fields": ("email_status", "consent", "consent_how", "consent_at")}),
        ]
        if obj is not None:
            fieldsets.append(("What the metrics say", {"fields": ("metrics_explained",)}))
            fieldsets.append(("Metrics", {"fields": METRIC_DISPLAY, "classes": ("collapse",)}))
            fieldsets.append(("History", {"fields": ("all_history", "updated_at")}))
        return fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj: Customer | None = None):
        fields = ("consent_how", "consent_at", *METRIC_FIELDS)
        if obj is not None:
            fields = (*SHOP_FIELDS, *fields, *METRIC_DISPLAY, "metrics_explained", "all_history", "updated_at")
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
            '<a href="{}{}">All {} order{}</a> · <a href="{}{}">All activity</a>',
            reverse("admin:customers_order_changelist"),
            query,
            number(obj.orders_count),
            "" if obj.orders_count == 1 else "s",
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
    fields = readonly_fields = ("sku", "product", "product_name", "category", "quantity", "price", "line")

    def get_queryset(self, request: HttpRequest) -> QuerySet[OrderItem]:
        return super().get_queryset(request).select_related("product", "order")

    @admin.display(description="Unit price")
    def price(self, obj: OrderItem) -> str:
        return money(obj.unit_price, obj.order.currency)

    @admin.display(description="Line total")
    def line(self, obj: OrderItem) -> str:
        return money(obj.line_total, obj.order.currency)


@admin.register(Order)
class OrderAdmin(CsvImportMixin, admin.ModelAdmin):
    """Orders come from the shop (API or CSV): viewable, deletable, never edited by hand."""

    list_display = ("external_id", "customer", "placed_at", "amount")
    fields = ("external_id", "customer", "placed_at", "amount", "created_at")
    readonly_fields = ("amount",)
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

    @admin.display(description="Total", ordering="total")
    def amount(self, obj: Order) -> str:
        return money(obj.total, obj.currency)

    def delete_model(self, request: HttpRequest, obj: Order) -> None:
        super().delete_model(request, obj)
        customer_order_aggregates_refresh(customer_ids=[obj.customer_id])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        customer_ids = set(queryset.values_list("customer_id", flat=True))
        super().delete_queryset(request, queryset)
        customer_order_aggregates_refresh(customer_ids=customer_ids)
