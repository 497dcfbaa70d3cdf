"""Read-side engagement queries for segments and sunset rules."""

from __future__ import annotations

from django.db.models import Count, F, Q, QuerySet

from customers.models import Customer


def customers_unengaged(
    *, sends_without_engagement: int, queryset: QuerySet[Customer] | None = None
) -> QuerySet[Customer]:
    """Customers sent at least N (non-test) messages since they last engaged (or ever, if never).

    "Engaged" is last_engaged_at: a human open or click, site activity or an order.
    Meant for sunset rules: stop promotional mail to people who no longer respond.
    """
    qs = queryset if queryset is not None else Customer.objects.all()
    since_engaged = Q(messages__sent_at__isnull=False, messages__is_test=False) & (
        Q(last_engaged_at__isnull=True) | Q(messages__sent_at__gt=F("last_engaged_at"))
    )
    return qs.annotate(sends_since_engaged=Count("messages", filter=since_engaged)).filter(
        sends_since_engaged__gte=sends_without_engagement
    )
