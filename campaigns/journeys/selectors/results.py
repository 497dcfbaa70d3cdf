"""What a campaign is worth: attributed revenue, and treatment vs holdout incrementality."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, DateTimeField, DecimalField, ExpressionWrapper, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from campaigns.journeys.models import Attribution
from campaigns.models import Campaign, Enrollment
from customers.models import Order

Z95 = 1.959964


@dataclass(frozen=True)
class Arm:
    customers: int
    converted: int
    revenue: float
    revenue_sq: float

    @property
    def conversion_rate(self) -> float:
        return self.converted / self.customers if self.customers else 0.0

    @property
    def revenue_per_customer(self) -> float:
        return self.revenue / self.customers if self.customers else 0.0

    @property
    def revenue_variance(self) -> float:
        n = self.customers
        if n < 2:
            return 0.0
        return max(0.0, (self.revenue_sq - n * self.revenue_per_customer**2) / (n - 1))


@dataclass(frozen=True)
class Difference:
    value: float
    low: float | None
    high: float | None


@dataclass(frozen=True)
class Incrementality:
    treatment: Arm
    holdout: Arm
    conversion_lift: Difference  # treatment rate - holdout rate, 95% CI (normal approximation, unpooled)
    revenue_lift: Difference  # revenue per customer difference, 95% CI (Welch standard error, normal quantile)
    window_days: int


def _arm(enrollments) -> Arm:
    window = timedelta(days=settings.INCREMENTALITY_WINDOW_DAYS)
    end = ExpressionWrapper(OuterRef("entered_at") + Value(window), output_field=DateTimeField())
    orders = Order.objects.filter(
        customer=OuterRef("customer_id"), placed_at__gte=OuterRef("entered_at"), placed_at__lt=end
    )
    revenue = Subquery(orders.values("customer").annotate(s=Sum("total")).values("s"), output_field=DecimalField())
    annotated = enrollments.annotate(rev=Coalesce(revenue, Value(Decimal("0")), output_field=DecimalField()))
    totals = annotated.aggregate(
        n=Count("pk"),
        converted=Count("pk", filter=Q(rev__gt=0)),
        revenue=Sum("rev"),
        revenue_sq=Sum(F("rev") * F("rev")),
    )
    return Arm(
        customers=totals["n"] or 0,
        converted=totals["converted"] or 0,
        revenue=float(totals["revenue"] or 0),
        revenue_sq=float(totals["revenue_sq"] or 0),
    )


def _diff(a: float, b: float, se: float, defined: bool) -> Difference:
    if not defined:
        return Difference(a - b, None, None)
    return Difference(a - b, a - b - Z95 * se, a - b + Z95 * se)


def campaign_incrementality(campaign: Campaign) -> Incrementality:
    """Treatment vs holdout enrollments: orders within INCREMENTALITY_WINDOW_DAYS of entry."""
    base = Enrollment.objects.filter(campaign=campaign)
    treat, hold = _arm(base.filter(is_holdout=False)), _arm(base.filter(is_holdout=True))
    defined = treat.customers >= 2 and hold.customers >= 2
    p1, p0 = treat.conversion_rate, hold.conversion_rate
    se_rate = math.sqrt(p1 * (1 - p1) / treat.customers + p0 * (1 - p0) / hold.customers) if defined else 0.0
    se_rev = (
        math.sqrt(treat.revenue_variance / treat.customers + hold.revenue_variance / hold.customers) if defined else 0.0
    )
    return Incrementality(
        treatment=treat,
        holdout=hold,
        conversion_lift=_diff(p1, p0, se_rate, defined),
        revenue_lift=_diff(treat.revenue_per_customer, hold.revenue_per_customer, se_rev, defined),
        window_days=settings.INCREMENTALITY_WINDOW_DAYS,
    )


def campaign_attributed_revenue(campaign: Campaign) -> dict:
    """Attributed orders and revenue for the campaign and for each of its steps."""
    rows = Attribution.objects.filter(campaign=campaign)
    total = rows.aggregate(orders=Count("pk"), revenue=Sum("revenue"))
    steps = list(
        rows.values("step_id", "step__position", "step__template__name")
        .annotate(orders=Count("pk"), revenue=Sum("revenue"))
        .order_by("step__position")
    )
    return {"orders": total["orders"], "revenue": total["revenue"] or Decimal("0"), "steps": steps}
