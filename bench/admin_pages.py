"""Server time of the marketing admin pages with 100k customers and 1M messages on PostgreSQL.

Builds the data once with INSERT ... SELECT generate_series (re-runs reuse it), then times each
page with Django's test client in this process (server time: no browser, no network):
the first load after the cache is cleared ("cold") and the median of the next loads ("warm").

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_admin REDIS_URL=redis://127.0.0.1:6379/12 \\
        .venv/bin/python bench/admin_pages.py [--customers 100000] [--messages 1000000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.core.cache import cache  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402

CAMPAIGNS = 10  # messages are spread evenly: customer i gets one message from each campaign


def _sql(statement: str, params: list | None = None) -> None:
    # Only %s placeholders are used, so every other % is SQL's modulo operator.
    with connection.cursor() as cursor:
        cursor.execute(statement.replace("%", "%%").replace("%%s", "%s"), params or [])


def _defaults(model, overrides: dict[str, str]) -> tuple[str, str, list]:
    """Column list and SELECT list for INSERT ... SELECT: SQL expressions for `overrides`,
    the model's Python defaults as parameters for every other column."""
    instance = model()
    columns, values, params = [], [], []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(field.column)
        value = getattr(instance, field.attname)
        if field.column in overrides:
            values.append(overrides[field.column])
        elif value is None and not field.null:  # auto_now(_add) timestamps
            values.append("now()")
        else:
            values.append("%s")
            params.append(field.get_db_prep_save(value, connection))
    return ", ".join(columns), ", ".join(values), params


def build(customers: int, messages: int) -> None:
    from campaigns.journeys.models import Attribution
    from campaigns.journeys.services.recipes import campaign_create_from_recipe
    from campaigns.models import Campaign, Enrollment, Message
    from customers.models import Customer, Order
    from tracking.models import EspEvent, TrackingEvent

    if EspEvent.objects.exists():  # the last table built
        return
    print(f"building {customers} customers and {messages} messages ...", flush=True)
    started = time.perf_counter()
    if not Order.objects.exists():  # each stage is skipped when a re-run finds it done
        for recipe in ("win_back", "loyalty", "abandoned_cart", "upsell_trial", "cross_sell"):
            campaign_create_from_recipe(recipe=recipe)
        while Campaign.objects.count() < CAMPAIGNS:
            campaign_create_from_recipe(recipe="win_back")
        Campaign.objects.update(status="active")
        campaigns = list(Campaign.objects.order_by("pk").values_list("pk", flat=True))[:CAMPAIGNS]
        stages = "(ARRAY['lead','new','active','at_risk','lapsed','churned'])[1 + i % 6]"
        cols, vals, params = _defaults(
            Customer,
            {
                "email": "'shopper' || i || '@example.test'",
                "first_name": "'Name' || i",
                "lifecycle_stage": stages,
                "created_at": "now() - (i % 700) * interval '1 day'",
                "updated_at": "now()",
            },
        )
        _sql(
            f"INSERT INTO customers_customer ({cols}) SELECT {vals} FROM generate_series(1, %s) AS i",
            [*params, customers],
        )
        first_customer = Customer.objects.order_by("pk").values_list("pk", flat=True).first()
        per_campaign = messages // CAMPAIGNS
        for index, campaign_id in enumerate(campaigns):
            step = Campaign.objects.get(pk=campaign_id).steps.order_by("position").first()
            cols, vals, params = _defaults(
                Message,
                {
                    "customer_id": f"{first_customer} + (i % {customers})",
                    "campaign_id": str(campaign_id),
                    "step_id": str(step.pk),
                    "template_version_id": str(step.template.current_version_id),
                    "status": "CASE WHEN i % 50 = 0 THEN 'queued' WHEN i % 97 = 0 THEN 'skipped' ELSE 'sent' END",
                    "error": "CASE WHEN i % 97 = 0 THEN 'sunset: not engaged for 180 days' ELSE '' END",
                    "created_at": "now() - (i % 90) * interval '1 day' - interval '1 hour'",
                    "sent_at": "CASE WHEN i % 50 = 0 OR i % 97 = 0 THEN NULL "
                    "ELSE now() - (i % 90) * interval '1 day' END",
                    "delivered_at": "CASE WHEN i % 50 = 0 OR i % 97 = 0 OR i % 40 = 1 THEN NULL "
                    "ELSE now() - (i % 90) * interval '1 day' END",
                },
            )
            _sql(
                f"INSERT INTO campaigns_message ({cols}) SELECT {vals} FROM generate_series(%s, %s) AS i",
                [*params, index * per_campaign, (index + 1) * per_campaign - 1],
            )
            print(f"  campaign {index + 1}/{len(campaigns)}: {per_campaign} messages", flush=True)
        # Enrollments (treatment and holdout) for two journeys, so incrementality has work to do.
        for campaign_id in campaigns[:2]:
            cols, vals, params = _defaults(
                Enrollment,
                {
                    "campaign_id": str(campaign_id),
                    "customer_id": f"{first_customer} + i",
                    "entered_at": "now() - (i % 60) * interval '1 day'",
                    "status": "'completed'",
                    "is_holdout": "i % 10 = 0",
                },
            )
            _sql(
                f"INSERT INTO campaigns_enrollment ({cols}) SELECT {vals} FROM generate_series(0, %s) AS i",
                [*params, customers - 1],
            )
        cols, vals, params = _defaults(
            Order,
            {
                "external_id": "'bench-' || i",
                "customer_id": f"{first_customer} + (i * 7) % {customers}",
                "placed_at": "now() - (i % 90) * interval '1 day'",
                "total": "20 + i % 200",
            },
        )
        _sql(
            f"INSERT INTO customers_order ({cols}) SELECT {vals} FROM generate_series(1, %s) AS i",
            [*params, customers // 2],
        )
    if not Attribution.objects.exists():
        _sql(
            """INSERT INTO journeys_attribution
                (order_id, message_id, campaign_id, step_id, revenue, touched_at, touch, created_at)
            SELECT o.id, m.id, m.campaign_id, m.step_id, o.total, o.placed_at, 'click', now()
            FROM customers_order o JOIN LATERAL (
                SELECT id, campaign_id, step_id FROM campaigns_message
                WHERE customer_id = o.customer_id AND sent_at IS NOT NULL ORDER BY sent_at LIMIT 1) m ON true
            WHERE o.id % 10 = 0"""
        )
    if not TrackingEvent.objects.exists():
        # Opens: 25% of sent (a fifth of them Apple MPP), clicks: 4% (a quarter of them scanners).
        for kind, modulo, machine_every, machine_verdict in (("open", 4, 5, "proxy"), ("click", 25, 4, "scanner")):
            cols, vals, params = _defaults(
                TrackingEvent,
                {
                    "event_uuid": "gen_random_uuid()",
                    "message_id": "m.id",
                    "customer_id": "m.customer_id",
                    "kind": f"'{kind}'",
                    "occurred_at": "m.sent_at + interval '1 hour'",
                    "verdict": f"CASE WHEN m.id % {machine_every} = 0 THEN '{machine_verdict}' ELSE 'human' END",
                    "counts_as_human": f"m.id % {machine_every} <> 0",
                    "recorded_at": "m.sent_at + interval '1 hour'",
                },
            )
            _sql(
                f"INSERT INTO tracking_trackingevent ({cols}) SELECT {vals} FROM campaigns_message m "
                f"WHERE m.sent_at IS NOT NULL AND m.id % {modulo} = 0",
                params,
            )
        for event_type, modulo in (("bounced", 40), ("complained", 900)):
            cols, vals, params = _defaults(
                EspEvent,
                {
                    "event_id": f"'{event_type}-' || m.id",
                    "esp": "'postmark'",
                    "event_type": f"'{event_type}'",
                    "message_id": "m.id",
                    "occurred_at": "m.sent_at",
                    "received_at": "m.sent_at",
                },
            )
            _sql(
                f"INSERT INTO tracking_espevent ({cols}) SELECT {vals} FROM campaigns_message m "
                f"WHERE m.sent_at IS NOT NULL AND m.id % {modulo} = 1",
                params,
            )
    _sql("ANALYZE")
    print(f"built in {time.perf_counter() - started:.0f} s", flush=True)


def pages() -> list[tuple[str, str]]:
    from campaigns.models import Campaign, Message

    campaign = Campaign.objects.order_by("pk").first()
    return [
        ("dashboard, 30 days (admin index)", reverse("admin:index") + "?days=30"),
        ("dashboard, 90 days", reverse("admin:index") + "?days=90"),
        ("campaign changelist", reverse("admin:campaigns_campaign_changelist")),
        ("campaign change page (100k messages)", reverse("admin:campaigns_campaign_change", args=[campaign.pk])),
        ("campaign progress JSON", reverse("admin:campaigns_campaign_progress", args=[campaign.pk])),
        ("message changelist", reverse("admin:campaigns_message_changelist")),
        ("message changelist, status=queued", reverse("admin:campaigns_message_changelist") + "?status__exact=queued"),
        ("message change page", reverse("admin:campaigns_message_change", args=[Message.objects.latest("pk").pk])),
        ("enrollment changelist", reverse("admin:campaigns_enrollment_changelist")),
        ("customer changelist", reverse("admin:customers_customer_changelist")),
        ("customer changelist, search", reverse("admin:customers_customer_changelist") + "?q=shopper4242"),
    ]


def measure(client: Client, url: str, repeat: int) -> dict:
    cache.clear()
    executed: list[str] = []

    def count(execute, sql, params, many, context):
        executed.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        started = time.perf_counter()
        response = client.get(url)
        cold = time.perf_counter() - started
        cold_queries = len(executed)
        assert response.status_code == 200, (url, response.status_code)
        warm = []
        for _ in range(repeat):
            executed.clear()
            started = time.perf_counter()
            client.get(url)
            warm.append(time.perf_counter() - started)
    return {
        "cold_ms": cold * 1000,
        "warm_ms": statistics.median(warm) * 1000,
        "cold_queries": cold_queries,
        "warm_queries": len(executed),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a PostgreSQL database (this bench uses generate_series).")
    call_command("migrate", verbosity=0)
    build(args.customers, args.messages)

    from django.contrib.auth.models import User

    user, _ = User.objects.get_or_create(username="bench-admin", defaults={"is_staff": True, "is_superuser": True})
    client = Client()
    client.force_login(user)
    from campaigns.models import Message
    from customers.models import Customer

    print(f"\n{Customer.objects.count()} customers, {Message.objects.count()} messages, PostgreSQL")
    print(f"{'page':42} {'cold ms':>8} {'warm ms':>8} {'queries cold/warm':>18}")
    for name, url in pages():
        figures = measure(client, url, args.repeat)
        queries = f"{figures['cold_queries']}/{figures['warm_queries']}"
        print(f"{name:42} {figures['cold_ms']:8.0f} {figures['warm_ms']:8.0f} {queries:>18}", flush=True)
    from campaigns.selectors.dashboard import dashboard_warm

    started = time.perf_counter()
    dashboard_warm()
    print(f"{'beat task dashboard_warm (3 periods + running campaigns)':60} {time.perf_counter() - started:8.1f} s")
    print("\ncold: first load after the cache was cleared; warm: median of the next loads (cache as in production).")


if __name__ == "__main__":
    main()
