"""GDPR: export everything held about a customer, and erase it.

Beyond the models named here, any model in the project's apps with a foreign key to
Customer, or to a row that belongs to a customer (message, enrollment, order…), is
included (exported, then deleted on erasure), so data added by later features
(tracking events, journey decisions, attributions…) is covered without changes here.
After erasure only the SHA-256 of the address stays, on the suppression list with
reason "erased", so that a re-imported address is never mailed again.

Both are audited when staff do them in the admin: an entry in Django's admin log (who, when,
which customer, by id), listed on the customer's History page and under "Audit trail".
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.admin.models import CHANGE, DELETION, LogEntry
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils import timezone

from customers.models import Customer, SuppressedAddress
from customers.services.suppression import email_hash

logger = logging.getLogger(__name__)

ERASED_REASON = "erased"
# Exported in their own sections (or as the profile itself).
_EXPLICIT = {
    "customers.customer",
    "customers.consentchange",
    "customers.order",
    "customers.orderitem",
    "customers.activity",
    "campaigns.enrollment",
    "campaigns.message",
}


def customer_export_data(*, customer: Customer) -> dict[str, Any]:
    """Everything held about `customer`, as JSON-ready primitives."""
    orders = []
    for order in customer.orders.order_by("placed_at", "pk").prefetch_related("items"):
        row = _row(order)
        row["items"] = [_row(item) for item in order.items.order_by("pk")]
        orders.append(row)
    messages = []
    for message in customer.messages.select_related("campaign", "step").order_by("created_at", "pk"):
        row = _row(message, exclude={"template_version"})
        row["campaign_name"] = message.campaign.name if message.campaign else ""
        row["step_position"] = message.step.position if message.step else None
        messages.append(row)
    enrollments = []
    for enrollment in customer.enrollments.select_related("campaign").order_by("entered_at", "pk"):
        row = _row(enrollment)
        row["campaign_name"] = enrollment.campaign.name
        enrollments.append(row)
    return {
        "exported_at": timezone.now().isoformat(),
        "profile": _row(customer),
        "consent_changes": [_row(change) for change in customer.consent_changes.order_by("created_at", "pk")],
        "orders": orders,
        "activities": [_row(activity) for activity in customer.activities.order_by("occurred_at", "pk")],
        "enrollments": enrollments,
        "messages": messages,
        "other": {
            model._meta.label_lower: [_row(obj) for obj in queryset.order_by("pk")]
            for model, queryset in _linked_querysets(customer)
            if model._meta.label_lower not in _EXPLICIT
        },
    }


@transaction.atomic
def customer_personal_data_export(*, customer: Customer, user: AbstractBaseUser) -> dict[str, Any]:
    """A GDPR access request answered by staff: the export, with an audit entry naming who and which customer."""
    data = customer_export_data(customer=customer)
    _audit(
        user=user,
        customer_id=customer.pk,
        repr_=f"Customer {customer.pk}",
        flag=CHANGE,
        message="Exported personal data (GDPR access request).",
    )
    logger.info("personal data of customer %s exported by user %s", customer.pk, user.pk)
    return data


@transaction.atomic
def customer_erase(*, customer: Customer, actor: str, user: AbstractBaseUser | None = None) -> dict[str, int]:
    """Delete the customer and everything linked; keep only the address hash, suppressed.

    With `user` (staff in the admin) an audit entry records who erased which customer.
    Returns the number of rows deleted per model label.
    """
    address_hash = email_hash(customer.email)
    deleted: dict[str, int] = {}
    # Rows pointing at the customer or their messages with SET_NULL (or that would block
    # deletion) go first, so no copy of their data outlives the customer.
    for model, queryset in _linked_querysets(customer):
        if model._meta.label_lower in _EXPLICIT:
            continue
        _count(deleted, queryset.delete())
    esp_event = _optional_model("tracking.EspEvent")
    if esp_event is not None:
        _count(deleted, esp_event.objects.filter(recipient_hash=address_hash).delete())
    customer_id = customer.pk
    _scrub_admin_history(customer)
    _count(deleted, customer.delete())
    SuppressedAddress.objects.update_or_create(email_hash=address_hash, defaults={"reason": ERASED_REASON})
    if user is not None:
        rows = sum(deleted.values())
        _audit(
            user=user,
            customer_id=customer_id,
            repr_=f"Customer {customer_id} (erased)",
            flag=DELETION,
            message=f"Erased (GDPR): {rows} row(s) deleted; only a hash of the address is kept, suppressed.",
        )
    logger.info("customer %s erased by %s", customer_id, actor)
    return deleted


def _audit(*, user: AbstractBaseUser, customer_id: int, repr_: str, flag: int, message: str) -> None:
    """An admin log entry naming the customer by id only (the log outlives an erased address)."""
    LogEntry.objects.create(
        user_id=user.pk,
        content_type=ContentType.objects.get_for_model(Customer),
        object_id=str(customer_id),
        object_repr=repr_,
        action_flag=flag,
        change_message=message,
    )


def _scrub_admin_history(customer: Customer) -> None:
    """The admin's change history names the object as str(customer), the address: keep who
    changed what and when, without it."""
    log_entry = _optional_model("admin.LogEntry")
    if log_entry is None:
        return
    content_type = ContentType.objects.get_for_model(Customer)
    log_entry.objects.filter(content_type=content_type, object_id=str(customer.pk)).update(
        object_repr=f"Customer {customer.pk} (erased)"
    )


def _linked_querysets(customer: Customer) -> list[tuple[type[models.Model], models.QuerySet]]:
    """(model, rows) for every project model with a foreign key to the customer or to a row
    that belongs to the customer (a message, enrollment, order, activity…)."""
    owned = {model for model in _project_models() if _customer_field(model) is not None}
    found = []
    for model in _project_models():
        if model is Customer:
            continue
        condition = models.Q()
        for field in model._meta.concrete_fields:
            target = field.related_model if field.is_relation else None
            if target is Customer:
                condition |= models.Q(**{field.name: customer})
            elif target in owned and target is not model:
                condition |= models.Q(**{f"{field.name}__{_customer_field(target)}": customer})
        if condition:
            found.append((model, model._default_manager.filter(condition)))
    return found


def _project_models() -> list[type[models.Model]]:
    """Models of the project's own apps (not Django's or third-party ones)."""
    base = Path(settings.BASE_DIR).resolve()
    found = []
    for app_config in apps.get_app_configs():
        path = Path(app_config.path).resolve()
        if path.is_relative_to(base) and "site-packages" not in path.parts:
            found.extend(app_config.get_models())
    return found


def _customer_field(model: type[models.Model]) -> str | None:
    for field in model._meta.concrete_fields:
        if field.is_relation and field.related_model is Customer:
            return field.name
    return None


def _optional_model(label: str) -> type[models.Model] | None:
    try:
        return apps.get_model(label)
    except LookupError:
        return None


def _count(totals: dict[str, int], result: tuple[int, dict[str, int]]) -> None:
    for label, number in result[1].items():
        totals[label] = totals.get(label, 0) + number


def _row(obj: models.Model, *, exclude: set[str] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for field in obj._meta.concrete_fields:
        if exclude and field.name in exclude:
            continue
        name = field.attname if field.is_relation else field.name
        data[name] = _primitive(field.value_from_object(obj))
    return data


def _primitive(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return None
    return value
