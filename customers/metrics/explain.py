"""Plain-language explanations of a customer's metrics, for the customer page in admin."""

from __future__ import annotations

from django.conf import settings

from customers.formatting import money, number, percent
from customers.models import Customer, LifecycleStage, RfmSegment

_STAGE_WHY = {
    LifecycleStage.LEAD: "No order yet.",
    LifecycleStage.NEW: "First order less than {new:g} days ago.",
    LifecycleStage.ACTIVE: "Buying within their usual rhythm.",
    LifecycleStage.AT_RISK: "Silent for at least {at_risk:g}× their usual gap between orders.",
    LifecycleStage.LAPSED: "Silent for at least {lapsed:g}× their usual gap between orders.",
    LifecycleStage.CHURNED: "Silent for {churned:g}× their usual gap or longer, or the model thinks they left.",
}

_SEGMENT_WHY = {
    RfmSegment.CHAMPIONS: "Bought recently, buys often and spends the most.",
    RfmSegment.LOYAL: "Steady, valuable buyer.",
    RfmSegment.POTENTIAL_LOYALISTS: "Recent buyer with few or small orders so far.",
    RfmSegment.NEW: "Recent first order.",
    RfmSegment.AT_RISK: "Valuable buyer who has gone quiet.",
    RfmSegment.CANT_LOSE: "Was among the best buyers, has gone quiet.",
    RfmSegment.HIBERNATING: "Low value, quiet for a while.",
    RfmSegment.LOST: "Low value, quiet the longest.",
}


def customer_metric_explanations(customer: Customer) -> list[tuple[str, str, str]]:
    """(label, value, one-line explanation) for each metric, in display order."""
    if customer.metrics_computed_at is None:
        return [("Metrics", "not computed yet", "Computed nightly, or from the metrics dashboard on demand.")]
    stage_why = _STAGE_WHY[LifecycleStage(customer.lifecycle_stage)].format(
        new=settings.LIFECYCLE_NEW_DAYS,
        at_risk=settings.LIFECYCLE_AT_RISK_RATIO,
        lapsed=settings.LIFECYCLE_LAPSED_RATIO,
        churned=settings.LIFECYCLE_CHURNED_RATIO,
    )
    rows = [("Lifecycle stage", customer.get_lifecycle_stage_display(), stage_why)]
    if customer.orders_count == 0:
        return rows
    gap = customer.mean_days_between_orders
    rows += [
        ("Orders", number(customer.orders_count), f"Total spent {money(customer.total_spent)}."),
        ("Average order value", money(customer.average_order_value), "Total spent divided by the number of orders."),
        (
            "Last order",
            f"{customer.last_order_at:%Y-%m-%d}" if customer.last_order_at else "—",
            "Their usual gap between orders is "
            + (f"{number(gap)} days." if gap is not None else "unknown (one order): the shop's typical gap is used."),
        ),
        (
            "RFM scores",
            f"R{customer.recency_score} F{customer.frequency_score} M{customer.monetary_score}",
            "Recency, frequency and money spent, 1–5 by fifths of all buyers (5 = best fifth).",
        ),
    ]
    if customer.rfm_segment:
        segment = RfmSegment(customer.rfm_segment)
        rows.append(("RFM segment", segment.label, _SEGMENT_WHY[segment]))
    if customer.p_alive is not None:
        rows.append(
            (
                "Probability still a customer",
                percent(customer.p_alive),
                "BG/NBD model: how likely they still buy, given how often they bought and how long they have been "
                f"silent (churn risk {percent(customer.churn_risk)}).",
            )
        )
    elif customer.orders_count == 1:
        rows.append(("Probability still a customer", "—", "Needs a second order: one order says nothing of dropout."))
    if customer.expected_purchases_90d is not None:
        rows.append(
            ("Expected orders, next 90 days", number(customer.expected_purchases_90d, 2), "BG/NBD model forecast.")
        )
    rows.append(
        (
            "Expected order value",
            money(customer.expected_order_value),
            "Gamma-Gamma model: their average blended with the shop's, more their own the more they ordered.",
        )
    )
    if customer.predicted_value is not None:
        rows.append(
            (
                "Predicted value",
                money(customer.predicted_value),
                f"Expected orders over the next {settings.METRICS_CLV_HORIZON_DAYS} days × expected order value.",
            )
        )
    else:
        rows.append(("Predicted value", "—", "Not enough repeat buyers in the shop yet to fit the model."))
    return rows
