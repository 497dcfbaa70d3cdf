"""Who is in a segment, computed by the database."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from campaigns.journeys.rules import rules_to_q
from campaigns.models import Segment
from customers.models import Customer
from customers.selectors import customers_mailable


def segment_customers(segment: Segment | None, *, now: datetime | None = None) -> QuerySet[Customer]:
    """Customers matching the segment's rules (everyone when there is no segment)."""
    if segment is None:
        return Customer.objects.all()
    return rules_customers(segment.rules, now=now)


def rules_customers(rules: Any, *, now: datetime | None = None) -> QuerySet[Customer]:
    """Customers matching raw rules; raises campaigns.journeys.rules.RuleError when they are invalid."""
    return Customer.objects.filter(rules_to_q(rules, now=now or timezone.now()))


def segment_count(rules: Any, *, now: datetime | None = None) -> int:
    return rules_customers(rules, now=now).count()


def segment_mailable_count(rules: Any, *, now: datetime | None = None) -> int:
    """Of the customers matching the rules, how many the consent policy and their status let us mail now."""
    return customers_mailable(rules_customers(rules, now=now)).count()
