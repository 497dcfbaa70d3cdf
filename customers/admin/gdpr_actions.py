"""GDPR admin actions for the customer list: "Export data (JSON)" and "Erase (GDPR)".

Add `GdprActionsMixin` to the customer ModelAdmin's bases; it adds both actions to
whatever actions that admin declares. Export needs the view permission, erasure the
delete permission, and erasure asks for confirmation first.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.contrib import admin, messages
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from customers.models import Customer
from customers.services.gdpr import customer_erase, customer_export_data

logger = logging.getLogger(__name__)

CONFIRM_FIELD = "confirm_gdpr_erase"


@admin.action(description="Export data (JSON)")
def export_customer_data(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Customer]):
    customers = list(queryset.order_by("pk"))
    exports = [customer_export_data(customer=customer) for customer in customers]
    payload = exports[0] if len(exports) == 1 else exports
    logger.info("customer data exported by %s: ids %s", request.user, [customer.pk for customer in customers])
    name = f"customer-{customers[0].pk}" if len(customers) == 1 else f"customers-{len(customers)}"
    response = HttpResponse(
        json.dumps(payload, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{name}.json"'
    return response


@admin.action(description="Erase (GDPR)")
def erase_customers(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Customer]):
    if request.POST.get(CONFIRM_FIELD) != "yes":
        context = {
            **modeladmin.admin_site.each_context(request),
            "title": "Erase customers (GDPR)",
            "opts": modeladmin.model._meta,
            "customers": queryset.order_by("pk"),
            "action_name": "erase_customers",
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            "confirm_field": CONFIRM_FIELD,
        }
        return TemplateResponse(request, "admin/customers/gdpr_erase_confirmation.html", context)
    actor = f"admin:{request.user.get_username()}"
    erased = 0
    for customer in queryset.order_by("pk"):
        customer_erase(customer=customer, actor=actor)
        erased += 1
    modeladmin.message_user(
        request,
        f"Erased {erased} customer(s). Only a hash of each address is kept, so they are never mailed again.",
        messages.SUCCESS,
    )
    return None


class GdprActionsMixin:
    """ModelAdmin mixin for Customer: adds the GDPR export and erase actions."""

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)  # type: ignore[misc]
        if self.has_view_permission(request):  # type: ignore[attr-defined]
            actions["export_customer_data"] = self.get_action(export_customer_data)  # type: ignore[attr-defined]
        if self.has_delete_permission(request):  # type: ignore[attr-defined]
            actions["erase_customers"] = self.get_action(erase_customers)  # type: ignore[attr-defined]
        return actions
