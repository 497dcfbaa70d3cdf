"""The segment rule language: JSON in, a Q object out, evaluated by the database.

A rule is one of::

    {"all": [rule, ...]}          every rule holds (an empty list matches everyone)
    {"any": [rule, ...]}          at least one holds
    {"not": rule}                 the rule does not hold
    {"field": F, "op": OP, "value": V}
    {"bought": {"sku": S} | {"category": C}, "within_days": N?}
    {"not_bought": {"sku": S} | {"category": C}, "within_days": N?}
    {"activity": TYPE, "within_days": N, "min_count": M?}
    {"overdue": K}                days since the last order > K x the customer's own mean gap

Fields and their operators:

- choices: lifecycle_stage, rfm_segment, consent, email_status, tier — eq, ne, in, not_in
- numbers: recency_score, frequency_score, monetary_score, engagement_score, orders_count,
  total_spent, p_alive, churn_risk, predicted_value, mean_days_between_orders — eq, ne, gt, gte, lt, lte, is_null
- dates: last_order_at, first_order_at, last_engaged_at, created_at —
  within_days (N days ago or later), older_than_days (before N days ago), is_null
- text: timezone, locale — eq, ne, in, not_in, startswith
- is_lead (no order yet) — eq true/false

Example: base-tier customers with engagement of at least 40 who never bought a premium product::

    {"all": [{"field": "tier", "op": "eq", "value": "base"},
             {"field": "engagement_score", "op": "gte", "value": 40},
             {"not_bought": {"category": "premium"}}]}
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Exists, F, FloatField, Func, OuterRef, Q, Value

from customers.models import (
    Activity,
    ActivityType,
    Consent,
    Customer,
    EmailStatus,
    LifecycleStage,
    OrderItem,
    RfmSegment,
    Tier,
)

CHOICE_FIELDS: dict[str, set[str]] = {
    "lifecycle_stage": set(LifecycleStage.values),
    "rfm_segment": set(RfmSegment.values) | {""},
    "consent": set(Consent.values),
    "email_status": set(EmailStatus.values),
    "tier": set(Tier.values),
}
NUMBER_FIELDS = {
    "recency_score",
    "frequency_score",
    "monetary_score",
    "engagement_score",
    "orders_count",
    "total_spent",
    "p_alive",
    "churn_risk",
    "predicted_value",
    "mean_days_between_orders",
}
DATE_FIELDS = {"last_order_at", "first_order_at", "last_engaged_at", "created_at"}
TEXT_FIELDS = {"timezone", "locale"}
CHOICE_OPS = {"eq", "ne", "in", "not_in"}
NUMBER_OPS = {"eq", "ne", "gt", "gte", "lt", "lte", "is_null"}
DATE_OPS = {"within_days", "older_than_days", "is_null"}
TEXT_OPS = {"eq", "ne", "in", "not_in", "startswith"}
_LOOKUP = {"eq": "exact", "gt": "gt", "gte": "gte", "lt": "lt", "lte": "lte", "in": "in", "startswith": "startswith"}


class RuleError(ValueError):
    """Invalid segment rules; `errors` lists every problem with its path in the JSON."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


class DaysSince(Func):
    """Days (fractional) from a datetime column to `now`, portable across SQLite and PostgreSQL."""

    output_field = FloatField()

    def __init__(self, field: str, now: datetime) -> None:
        super().__init__(Value(now), F(field))

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="(julianday(%(expressions)s))", arg_joiner=") - julianday(")

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(
            compiler, connection, template="(EXTRACT(EPOCH FROM (%(expressions)s)) / 86400.0)", arg_joiner=" - "
        )


def rules_to_q(rules: Any, *, now: datetime) -> Q:
    """Validate `rules` and turn them into a Q over Customer; raises RuleError listing all problems."""
    errors: list[str] = []
    q = _node(rules if rules not in (None, {}) else {"all": []}, "rules", now, errors)
    if errors:
        raise RuleError(errors)
    return q


def validate_rules(rules: Any) -> list[str]:
    try:
        rules_to_q(rules, now=datetime(2000, 1, 1))
    except RuleError as exc:
        return exc.errors
    return []


def _node(node: Any, path: str, now: datetime, errors: list[str]) -> Q:
    if not isinstance(node, dict) or len(node) == 0:
        errors.append(f"{path}: expected an object such as {{'all': [...]}} or a condition")
        return Q()
    if "all" in node or "any" in node:
        key = "all" if "all" in node else "any"
        items = node[key]
        if not isinstance(items, list) or len(node) != 1:
            errors.append(f"{path}.{key}: expected a list and nothing else beside it")
            return Q()
        q = Q() if key == "all" else Q(pk__in=[])
        for index, item in enumerate(items):
            sub = _node(item, f"{path}.{key}[{index}]", now, errors)
            q = (q & sub) if key == "all" else (q | sub) if index else sub
        return q
    if "not" in node:
        return ~_node(node["not"], f"{path}.not", now, errors)
    if "field" in node:
        return _field(node, path, now, errors)
    if "bought" in node or "not_bought" in node:
        return _bought(node, path, now, errors)
    if "activity" in node:
        return _activity(node, path, now, errors)
    if "overdue" in node:
        factor = node["overdue"]
        if not isinstance(factor, int | float) or isinstance(factor, bool) or factor <= 0:
            errors.append(f"{path}.overdue: expected a positive number (times the customer's mean gap)")
            return Q()
        return Q(pk__in=_overdue_ids(float(factor), now))
    errors.append(f"{path}: unknown rule keys {sorted(node)}")
    return Q()


def _field(node: dict, path: str, now: datetime, errors: list[str]) -> Q:
    field, op, value = node.get("field"), node.get("op", "eq"), node.get("value")
    if field == "is_lead":
        if op != "eq" or not isinstance(value, bool):
            errors.append(f"{path}: is_lead takes op 'eq' and value true or false")
            return Q()
        return Q(orders_count=0) if value else Q(orders_count__gt=0)
    if field in CHOICE_FIELDS:
        allowed, kind = CHOICE_OPS, "choice"
    elif field in NUMBER_FIELDS:
        allowed, kind = NUMBER_OPS, "number"
    elif field in DATE_FIELDS:
        allowed, kind = DATE_OPS, "date"
    elif field in TEXT_FIELDS:
        allowed, kind = TEXT_OPS, "text"
    else:
        errors.append(f"{path}.field: unknown field {field!r}")
        return Q()
    if op not in allowed:
        errors.append(f"{path}.op: {field} takes one of {sorted(allowed)}, not {op!r}")
        return Q()
    if op == "is_null":
        if not isinstance(value, bool):
            errors.append(f"{path}.value: is_null takes true or false")
            return Q()
        return Q(**{f"{field}__isnull": value})
    if op in {"in", "not_in"}:
        if not isinstance(value, list) or not value:
            errors.append(f"{path}.value: {op} takes a non-empty list")
            return Q()
        values = value
    else:
        values = [value]
    for item in values:
        if kind == "choice" and item not in CHOICE_FIELDS[field]:
            errors.append(f"{path}.value: {item!r} is not one of {sorted(CHOICE_FIELDS[field])}")
            return Q()
        if kind in {"number", "date"} and (not isinstance(item, int | float) or isinstance(item, bool)):
            errors.append(f"{path}.value: expected a number, not {item!r}")
            return Q()
        if kind == "text" and not isinstance(item, str):
            errors.append(f"{path}.value: expected text, not {item!r}")
            return Q()
    if kind == "date":
        cutoff = now - timedelta(days=value)
        return Q(**{f"{field}__gte": cutoff}) if op == "within_days" else Q(**{f"{field}__lt": cutoff})
    if op in {"ne", "not_in"}:
        return ~Q(**{f"{field}__{'in' if op == 'not_in' else 'exact'}": value})
    return Q(**{f"{field}__{_LOOKUP[op]}": value})


def _bought(node: dict, path: str, now: datetime, errors: list[str]) -> Q:
    key = "bought" if "bought" in node else "not_bought"
    what = node[key]
    if not isinstance(what, dict) or len(what) != 1 or not ({"sku", "category"} & set(what)):
        errors.append(f"{path}.{key}: expected {{'sku': ...}} or {{'category': ...}}")
        return Q()
    ((attr, value),) = what.items()
    values = value if isinstance(value, list) else [value]
    if not values or not all(isinstance(v, str) and v for v in values):
        errors.append(f"{path}.{key}.{attr}: expected text or a list of text")
        return Q()
    items = OrderItem.objects.filter(order__customer=OuterRef("pk"), **{f"{attr}__in": values})
    within = node.get("within_days")
    if within is not None:
        if not isinstance(within, int) or isinstance(within, bool) or within <= 0:
            errors.append(f"{path}.within_days: expected a positive whole number")
            return Q()
        items = items.filter(order__placed_at__gte=now - timedelta(days=within))
    exists = Q(Exists(items))
    return exists if key == "bought" else ~exists


def _activity(node: dict, path: str, now: datetime, errors: list[str]) -> Q:
    kind, within, min_count = node["activity"], node.get("within_days"), node.get("min_count", 1)
    if kind not in ActivityType.values:
        errors.append(f"{path}.activity: {kind!r} is not one of {sorted(ActivityType.values)}")
        return Q()
    if not isinstance(within, int) or isinstance(within, bool) or within <= 0:
        errors.append(f"{path}.within_days: expected a positive whole number")
        return Q()
    if not isinstance(min_count, int) or isinstance(min_count, bool) or min_count < 1:
        errors.append(f"{path}.min_count: expected a whole number of at least 1")
        return Q()
    recent = Activity.objects.filter(type=kind, occurred_at__gte=now - timedelta(days=within))
    if min_count == 1:
        return Q(Exists(recent.filter(customer=OuterRef("pk"))))

    busy = recent.values("customer_id").annotate(n=Count("id")).filter(n__gte=min_count).values("customer_id")
    return Q(pk__in=busy)


def _overdue_ids(factor: float, now: datetime):
    return (
        Customer.objects.filter(last_order_at__isnull=False, mean_days_between_orders__gt=0)
        .annotate(days_since_order=DaysSince("last_order_at", now))
        .filter(days_since_order__gt=F("mean_days_between_orders") * factor)
        .values("pk")
    )
