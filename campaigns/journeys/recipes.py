"""Built-in journeys staff create in one click and then edit. Each recipe is one or two campaigns.

Templates are the starter templates (`python manage.py load_starter_templates`), found by name.
"""

from __future__ import annotations

from datetime import timedelta

HOUR, DAY = timedelta(hours=1), timedelta(days=1)

# Priorities decide the frequency cap: cart > trial > cross-sell / loyalty > win-back.
PRIORITY = {"abandoned_cart": 90, "upsell_trial": 70, "cross_sell": 50, "loyalty": 50, "win_back": 30}

CART_EVENTS = "cart_updated,checkout_started"

RECIPES: dict[str, dict] = {
    "abandoned_cart": {
        "title": "Abandoned cart (leads and customers)",
        "campaigns": [
            {
                "name": "Abandoned cart: leads",
                "kind": "abandoned_cart",
                "segment": {"name": "Leads", "rules": {"all": [{"field": "is_lead", "op": "eq", "value": True}]}},
                "trigger": "event",
                "trigger_event": CART_EVENTS,
                "trigger_delay": HOUR,
                "exit_on": ["order_placed"],
                "reentry_days": 3,
                "is_transactional": True,
                "steps": [
                    {"template": "Abandoned cart: lead", "delay": timedelta()},
                    {"template": "Abandoned cart: lead", "delay": DAY, "condition": {"has_not_bought": True}},
                ],
            },
            {
                "name": "Abandoned cart: customers",
                "kind": "abandoned_cart",
                "segment": {"name": "Customers", "rules": {"all": [{"field": "is_lead", "op": "eq", "value": False}]}},
                "trigger": "event",
                "trigger_event": CART_EVENTS,
                "trigger_delay": HOUR,
                "exit_on": ["order_placed"],
                "reentry_days": 3,
                "is_transactional": True,
                "steps": [
                    {"template": "Abandoned cart: customer", "delay": timedelta()},
                    {"template": "Abandoned cart: customer", "delay": DAY, "condition": {"has_not_bought": True}},
                ],
            },
        ],
    },
    "upsell_trial": {
        "title": "Upsell: premium trial",
        "campaigns": [
            {
                "name": "Upsell: premium trial offer",
                "kind": "upsell_trial",
                "segment": {
                    "name": "Engaged base-tier customers",
                    "rules": {
                        "all": [
                            {"field": "tier", "op": "eq", "value": "base"},
                            {"field": "engagement_score", "op": "gte", "value": 40},
                            {"field": "is_lead", "op": "eq", "value": False},
                        ]
                    },
                },
                "trigger": "audience",
                "exit_on": ["trial_started", "trial_converted"],
                "reentry_days": 180,
                "steps": [
                    {
                        "template": "Upsell trial: upgrade offer",
                        "delay": timedelta(),
                        "offer": {"type": "trial", "value": 7, "code_prefix": "TRIAL"},
                    }
                ],
            },
            {
                "name": "Upsell: trial onboarding",
                "kind": "upsell_trial",
                "segment": None,
                "trigger": "event",
                "trigger_event": "trial_started",
                "exit_on": ["trial_converted"],
                "reentry_days": 180,
                "steps": [
                    {"template": "Upsell trial: get the most out of it", "delay": timedelta()},
                    {
                        "template": "Upsell trial: trial ending",
                        "delay": 6 * DAY,
                        "delay_from": "entry",
                        "condition": {"before_trial_end_hours": 24},
                    },
                ],
            },
        ],
    },
    "cross_sell": {
        "title": "Cross-sell after an order",
        "campaigns": [
            {
                "name": "Cross-sell: goes well with your order",
                "kind": "cross_sell",
                "segment": None,
                "trigger": "event",
                "trigger_event": "order_placed",
                "trigger_delay": 14 * DAY,
                "exit_on": [],
                "reentry_days": 30,
                "steps": [{"template": "Cross-sell: recommendations", "delay": timedelta()}],
            }
        ],
    },
    "loyalty": {
        "title": "Loyalty: exclusive offer and Nth-order thank-you",
        "campaigns": [
            {
                "name": "Loyalty: exclusive offer",
                "kind": "loyalty",
                "segment": {
                    "name": "Top customers",
                    "rules": {
                        "any": [
                            {"field": "rfm_segment", "op": "in", "value": ["champions", "loyal"]},
                            {"field": "predicted_value", "op": "gte", "value": 500},
                        ]
                    },
                },
                "trigger": "audience",
                "exit_on": [],
                "reentry_days": 90,
                "steps": [
                    {
                        "template": "Loyalty: reward",
                        "delay": timedelta(),
                        "offer": {"type": "percent", "value": 15, "code_prefix": "VIP"},
                    }
                ],
            },
            {
                "name": "Loyalty: thank you for your 5th order",
                "kind": "loyalty",
                "segment": {
                    "name": "Fifth order",
                    "rules": {"all": [{"field": "orders_count", "op": "eq", "value": 5}]},
                },
                "trigger": "event",
                "trigger_event": "order_placed",
                "trigger_delay": 2 * HOUR,
                "exit_on": [],
                "reentry_days": 3650,
                "steps": [{"template": "Order thank-you", "delay": timedelta()}],
            },
        ],
    },
    "win_back": {
        "title": "Win-back: three-step sequence",
        "campaigns": [
            {
                "name": "Win-back",
                "kind": "win_back",
                "segment": {
                    "name": "Slipping away",
                    "rules": {
                        "all": [
                            {"field": "orders_count", "op": "gte", "value": 1},
                            {"any": [{"overdue": 2}, {"field": "churn_risk", "op": "gte", "value": 0.6}]},
                        ]
                    },
                },
                "trigger": "audience",
                "exit_on": ["order_placed"],
                "reentry_days": 120,
                "steps": [
                    {"template": "Win-back 1: we miss you", "delay": timedelta()},
                    {
                        "template": "Win-back 2: welcome-back gift",
                        "delay": 7 * DAY,
                        "offer": {"type": "percent", "value": 10, "code_prefix": "BACK"},
                    },
                    {"template": "Win-back 3: last chance", "delay": 6 * DAY},
                ],
            }
        ],
    },
}
