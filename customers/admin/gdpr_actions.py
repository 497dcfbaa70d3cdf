"""GDPR in the customer admin: "Export personal data (JSON)" and "Erase (GDPR)".

Add `GdprActionsMixin` to the customer ModelAdmin's bases. Each needs its own permission
(`customers.export_personal_data`, `customers.erase_customer`; see customers/roles.py), is
shown only to those who have it, and leaves an audit entry per customer.

The export is a per-person action: one customer at a time (from the customer's page, or the
list action with exactly one row ticked), never a bulk download of everyone's data.
Erasure asks for confirmation first and is never offered for "select all" across pages.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from customers.models import Customer
from customers.services.gdpr import customer_erase, customer_personal_data_export

EXPORT_PERMISSION = "customers.export_personal_data"
ERASE_PERMISSION = "customers.erase_customer"
CONFIRM_FIELD = "confirm_gdpr_erase"


def _selected_across(request: HttpRequest) -> bool:
    return request.POST.get("select_across") == "1"


def personal_data_response(*, customer: Customer, request: HttpRequest) -> HttpResponse:
    data = customer_personal_data_export(customer=customer, user=request.user)
    response = HttpResponse(
        json.dumps(data, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="customer-{customer.pk}-personal-data.json"'
    return response


@admin.action(description="Export personal data (JSON, one customer)")
def export_customer_data(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Customer]):
    if not request.user.has_perm(EXPORT_PERMISSION):
        raise PermissionDenied
    if _selected_across(request) or queryset.count() != 1:
        modeladmin.message_user(
            request,
            "Personal data is exported one customer at a time: tick exactly one customer "
            "(or use “Export personal data” on the customer's page). Each export is recorded.",
            messages.ERROR,
        )
        return None
    return personal_data_response(customer=queryset.get(), request=request)


@admin.action(description="Erase (GDPR)")
def erase_customers(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Customer]):
    if not request.user.has_perm(ERASE_PERMISSION):
        raise PermissionDenied
    if _selected_across(request):
        modeladmin.message_user(
            request,
            "Erasing every customer at once is not offered: tick the customers to erase on the page.",
            messages.ERROR,
        )
        return None
    if request.POST.get(CONFIRM_FIELD) != "yes":
        return erase_confirmation(modeladmin, request, queryset.order_by("pk"))
    actor = f"admin:{request.user.get_username()}"
    erased = 0
    for customer in queryset.order_by("pk"):
        customer_erase(customer=customer, actor=actor, user=request.user)
        erased += 1
    modeladmin.message_user(
        request,
        f"Erased {erased} customer(s). Only a hash of each address is kept, so they are never mailed again.",
        messages.SUCCESS,
    )
    return None


def erase_confirmation(modeladmin: admin.ModelAdmin, request: HttpRequest, customers) -> TemplateResponse:
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": "Erase customers (GDPR)",
        "opts": modeladmin.model._meta,
        "customers": customers,
        "action_name": "erase_customers",
        "action_checkbox_name": ACTION_CHECKBOX_NAME,
        "confirm_field": CONFIRM_FIELD,
        "form_action": reverse("admin:customers_customer_changelist"),
    }
    return TemplateResponse(request, "admin/customers/gdpr_erase_confirmation.html", context)


class GdprActionsMixin:
    """ModelAdmin mixin for Customer: the GDPR actions on the list and buttons on the customer's page."""

    change_form_template = "admin/customers/customer/change_form.html"

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)  # type: ignore[misc]
        if request.user.has_perm(EXPORT_PERMISSION):
            actions["export_customer_data"] = self.get_action(export_customer_data)  # type: ignore[attr-defined]
        if request.user.has_perm(ERASE_PERMISSION):
            actions["erase_customers"] = self.get_action(erase_customers)  # type: ignore[attr-defined]
        return actions

    def get_urls(self):
        view = self.admin_site.admin_view  # type: ignore[attr-defined]
        return [
            path(
                "<int:pk>/export-personal-data/",
                view(require_POST(self.personal_data_view)),
                name="customers_customer_export_personal_data",
            ),
            path("<int:pk>/erase/", view(self.erase_view), name="customers_customer_erase"),
            *super().get_urls(),  # type: ignore[misc]
        ]

    def personal_data_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not request.user.has_perm(EXPORT_PERMISSION):
            raise PermissionDenied
        return personal_data_response(customer=get_object_or_404(Customer, pk=pk), request=request)

    def erase_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The customer page's "Erase (GDPR)" button: the same confirmation as the list action."""
        if not request.user.has_perm(ERASE_PERMISSION):
            raise PermissionDenied
        customer = get_object_or_404(Customer, pk=pk)
        return erase_confirmation(self, request, Customer.objects.filter(pk=customer.pk))  # type: ignore[arg-type]

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None):
        extra_context = extra_context or {}
        if object_id and object_id.isdigit():
            if request.user.has_perm(EXPORT_PERMISSION):
                extra_context["export_personal_data_url"] = reverse(
                    "admin:customers_customer_export_personal_data", args=[object_id]
                )
            if request.user.has_perm(ERASE_PERMISSION):
                extra_context["erase_url"] = reverse("admin:customers_customer_erase", args=[object_id])
        return super().change_view(request, object_id, form_url, extra_context)  # type: ignore[misc]
