from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns.journeys.rules import RuleError, validate_rules
from campaigns.journeys.selectors.segments import rules_customers, segment_customers
from campaigns.models import Segment

pytestmark = pytest.mark.django_db


def emails(qs) -> set[str]:
    return set(qs.values_list("email", flat=True))


def test_field_conditions_combine_with_all_any_not(customer):
    customer(email="champ@example.com", rfm_segment="champions", engagement_score=80, tier="base")
    customer(email="loyal@example.com", rfm_segment="loyal", engagement_score=10, tier="premium")
    customer(email="lost@example.com", rfm_segment="lost", engagement_score=90, tier="base")
    rules = {
        "all": [
            {"any": [{"field": "rfm_segment", "op": "in", "value": ["champions", "loyal"]}]},
            {"not": {"field": "tier", "op": "eq", "value": "premium"}},
            {"field": "engagement_score", "op": "gte", "value": 50},
        ]
    }
    assert emails(rules_customers(rules)) == {"champ@example.com"}


def test_dates_leads_and_empty_rules(customer):
    now = timezone.now()
    customer(email="recent@example.com", orders_count=2, last_order_at=now - timedelta(days=5))
    customer(email="old@example.com", orders_count=1, last_order_at=now - timedelta(days=200))
    customer(email="lead@example.com")
    assert emails(rules_customers({"field": "last_order_at", "op": "older_than_days", "value": 90})) == {
        "old@example.com"
    }
    assert emails(rules_customers({"field": "last_order_at", "op": "within_days", "value": 30})) == {
        "recent@example.com"
    }
    assert emails(rules_customers({"field": "is_lead", "op": "eq", "value": True})) == {"lead@example.com"}
    assert rules_customers({}).count() == 3
    assert segment_customers(None).count() == 3


def test_bought_not_bought_and_activity(customer, order, activity):
    shoes = customer(email="shoes@example.com")
    both = customer(email="both@example.com")
    customer(email="none@example.com")
    order(shoes, items=[("run-1", "shoes")])
    order(both, items=[("run-2", "shoes"), ("sock-1", "socks")])
    activity(both, "product_viewed")
    assert emails(rules_customers({"bought": {"category": "shoes"}})) == {"shoes@example.com", "both@example.com"}
    assert emails(rules_customers({"all": [{"bought": {"category": "shoes"}}, {"not_bought": {"sku": "sock-1"}}]})) == {
        "shoes@example.com"
    }
    assert emails(rules_customers({"activity": "product_viewed", "within_days": 7})) == {"both@example.com"}


def test_overdue_relative_to_own_rhythm(customer):
    now = timezone.now()
    # Buys every 10 days, last bought 25 days ago: overdue at 2x rhythm.
    customer(email="weekly@example.com", orders_count=5, mean_days_between_orders=10, last_order_at=now - timedelta(25))
    # Buys every 60 days, last bought 25 days ago: on time.
    customer(email="slow@example.com", orders_count=3, mean_days_between_orders=60, last_order_at=now - timedelta(25))
    assert emails(rules_customers({"overdue": 2})) == {"weekly@example.com"}


def test_evaluation_is_one_query_whatever_the_size(customer, order):
    for i in range(30):
        c = customer(engagement_score=i)
        order(c, items=[(f"sku-{i % 3}", "cat")])
    segment = Segment.objects.create(
        name="s", rules={"all": [{"field": "engagement_score", "op": "gte", "value": 10}, {"bought": {"sku": "sku-1"}}]}
    )
    with CaptureQueriesContext(connection) as ctx:
        count = segment_customers(segment).count()
    assert count == len([i for i in range(10, 30) if i % 3 == 1])
    assert len(ctx.captured_queries) == 1


def test_validation_lists_every_problem_with_its_path():
    errors = validate_rules(
        {
            "all": [
                {"field": "lifecycle_stage", "op": "eq", "value": "zombie"},
                {"field": "shoe_size", "op": "eq", "value": 42},
                {"field": "orders_count", "op": "within_days", "value": 3},
                {"activity": "teleported", "within_days": 3},
            ]
        }
    )
    assert len(errors) == 4
    assert errors[0].startswith("rules.all[0].value: 'zombie' is not one of")
    assert "rules.all[1].field: unknown field 'shoe_size'" in errors
    with pytest.raises(RuleError):
        rules_customers({"any": "not a list"})
