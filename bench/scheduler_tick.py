"""Scheduler tick at scale: time and query count, against the bare SQL count of the audience.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<db> .venv/bin/python bench/scheduler_tick.py \
        [--customers 100000] [--orders 1000000] [--carts 5000] [--activities 2000000] [--json out.json]

Works in a throw-away test database (test_<db>, created and dropped here). Data is generated
in SQL: customers, orders over two years skewed toward heavy buyers (one item each, 200
products in 20 categories), per-customer order metrics, and recent cart events. Four active
journeys (win-back on the customer's own rhythm, loyalty, cross-sell after an order, abandoned
cart) then run through three ticks: the first (mass enrolment and first steps), an idle one a
minute later (what beat pays every minute), and one a week later (follow-up steps, caps).
Baselines (bench/bare_sql.py): the win-back rule as a hand-written SQL count beside the
segment count, and the tick's unavoidable reads written by hand beside the idle tick.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench import bare_sql  # noqa: E402
from campaigns.journeys.selectors.segments import segment_count, segment_customers  # noqa: E402
from campaigns.journeys.services.tick import journeys_tick  # noqa: E402
from campaigns.models import Campaign, Message, Segment, Step, Template, TemplateVersion  # noqa: E402
from customers.models import Customer  # noqa: E402

WIN_BACK_RULES = {"all": [{"field": "orders_count", "op": "gte", "value": 2}, {"overdue": 2}]}
LOYALTY_RULES = {"all": [{"field": "total_spent", "op": "gte", "value": 1500}, {"bought": {"category": "cat-3"}}]}


def insert_customers(n: int) -> None:
    columns, values, params = [], [], []
    fixed = {
        "email": "'c' || g || '@bench.example'",
        "consent": "'granted'",
        "timezone": "'Europe/Berlin'",
        "created_at": "now() - interval '800 days'",
        "updated_at": "now()",
    }
    for field in Customer._meta.concrete_fields:
        if field.primary_key:
            continue
        if field.name in fixed:
            columns.append(field.column)
            values.append(fixed[field.name])
        elif not field.null:
            columns.append(field.column)
            values.append("%s")
            params.append(field.get_db_prep_save(field.get_default(), connection))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO customers_customer ({', '.join(columns)}) SELECT {', '.join(values)} "
            f"FROM generate_series(1, {int(n)}) AS g",
            params,
        )


def insert_shop_data(n_orders: int, n_customers: int, n_carts: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(id) FROM customers_customer")
        first_id = cursor.fetchone()[0]
        cursor.execute(
            """INSERT INTO customers_product (sku, name, category, price, currency, url, image_url, tier, is_active)
               SELECT 'sku-' || g, 'Product ' || g, 'cat-' || (g % 20), 10 + g % 50, 'EUR', '', '', 'base', true
               FROM generate_series(1, 200) AS g"""
        )
        cursor.execute(
            """INSERT INTO customers_order (external_id, customer_id, placed_at, total, currency, created_at)
               SELECT 'b' || g, %s + floor(%s * power(random(), 3))::bigint,
                      now() - random() * interval '730 days', round((5 + random() * 120)::numeric, 2), 'EUR', now()
               FROM generate_series(1, %s) AS g""",
            [first_id, int(n_customers * 0.9), n_orders],
        )
        cursor.execute(
            """INSERT INTO customers_orderitem (order_id, product_id, sku, product_name, category, quantity, unit_price)
               SELECT o.id, p.id, p.sku, p.name, p.category, 1, p.price
               FROM customers_order o JOIN customers_product p ON p.sku = 'sku-' || (1 + o.id % 200)"""
        )
        cursor.execute(
            """UPDATE customers_customer c SET orders_count = s.n, total_spent = s.spent,
                      first_order_at = s.first_at, last_order_at = s.last_at,
                      mean_days_between_orders = CASE WHEN s.n > 1
                          THEN EXTRACT(EPOCH FROM (s.last_at - s.first_at)) / 86400.0 / (s.n - 1) END,
                      lifecycle_stage = 'active'
               FROM (SELECT customer_id, count(*) n, sum(total) spent, min(placed_at) first_at,
                            max(placed_at) last_at FROM customers_order GROUP BY customer_id) s
               WHERE s.customer_id = c.id"""
        )
        cursor.execute(
            """INSERT INTO customers_activity (customer_id, type, product_id, occurred_at, properties)
               SELECT %s + floor(random() * %s)::bigint, 'cart_updated', NULL,
                      now() - interval '90 minutes' + random() * interval '20 minutes',
                      '{"items": [{"sku": "sku-1", "name": "Product 1", "quantity": 1}]}'::jsonb
               FROM generate_series(1, %s) AS g""",
            [first_id, n_customers, n_carts],
        )
        for table in ("customers_customer", "customers_order", "customers_orderitem", "customers_activity"):
            cursor.execute(f"ANALYZE {table}")


def insert_activity(n: int, n_customers: int) -> None:
    """Background activity (product views over 90 days) so the activity table has a real size."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(id) FROM customers_customer")
        first_id = cursor.fetchone()[0]
        cursor.execute(
            """INSERT INTO customers_activity (customer_id, type, product_id, occurred_at, properties)
               SELECT %s + floor(random() * %s)::bigint, 'product_viewed', NULL,
                      now() - interval '2 hours' - random() * interval '90 days', '{}'::jsonb
               FROM generate_series(1, %s) AS g""",
            [first_id, n_customers, n],
        )
        cursor.execute("ANALYZE customers_activity")


def median_seconds(function, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def journeys_create() -> Segment:
    template = Template.objects.create(name="Bench", subject="Hi", mjml="<mjml></mjml>", is_valid=True)
    template.current_version = TemplateVersion.objects.create(
        template=template, number=1, subject="Hi", mjml="<mjml></mjml>", compiled_html="<p>Hi</p>"
    )
    template.save()
    win_back = Segment.objects.create(name="Overdue", rules=WIN_BACK_RULES)
    specs = [
        ("Win-back", "win_back", 30, "audience", "", timedelta(), win_back, [0, 7, 13], {}),
        ("Loyalty", "loyalty", 50, "audience", "", timedelta(), None, [0], {}),
        ("Cross-sell", "cross_sell", 50, "event", "order_placed", timedelta(hours=1), None, [0], {}),
        ("Cart", "abandoned_cart", 90, "event", "cart_updated", timedelta(hours=1), None, [0, 1], {}),
    ]
    loyalty = Segment.objects.create(name="Big spenders", rules=LOYALTY_RULES)
    for name, kind, priority, trigger, event, delay, segment, days, offer in specs:
        campaign = Campaign.objects.create(
            name=name,
            kind=kind,
            status="active",
            priority=priority,
            trigger=trigger,
            trigger_event=event,
            trigger_delay=delay,
            segment=segment if name != "Loyalty" else loyalty,
            exit_on=["order_placed"],
            is_transactional=kind == "abandoned_cart",
            holdout_percent=10,
        )
        for position, day in enumerate(days, start=1):
            Step.objects.create(
                campaign=campaign,
                position=position,
                template=template,
                delay=timedelta(days=day),
                offer={"type": "percent", "value": 10} if position == 2 else offer,
            )
    return win_back


def timed_tick(label: str, now) -> float:
    profiler = cProfile.Profile() if os.environ.get("BENCH_PROFILE") else None
    with CaptureQueriesContext(connection) as queries:
        start = time.perf_counter()
        if profiler:
            profiler.enable()
        counts = journeys_tick(now=now)
        if profiler:
            profiler.disable()
        seconds = time.perf_counter() - start
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    shown = {k: v for k, v in sorted(counts.items()) if v}
    if os.environ.get("BENCH_SLOW_QUERIES"):
        for q in sorted(queries.captured_queries, key=lambda q: -float(q["time"]))[:3]:
            print(f"   {q['time']}s {q['sql'][:600]}")
    print(f"{label:<28} {seconds:7.2f}s  {len(queries.captured_queries):5d} queries  {shown}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--carts", type=int, default=5_000)
    parser.add_argument("--activities", type=int, default=0, help="activity rows in all (carts included)")
    parser.add_argument("--json", help="Also write the figures to this JSON file (for bench/run.py).")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("bench: set DATABASE_URL to a PostgreSQL database")
    original = connection.settings_dict["NAME"]
    test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    figures: dict = {"customers": args.customers, "orders": args.orders, "carts": args.carts}
    try:
        clock = time.perf_counter()
        insert_customers(args.customers)
        insert_shop_data(args.orders, args.customers, args.carts)
        insert_activity(max(args.activities - args.carts, 0), args.customers)
        figures["activities"] = max(args.activities, args.carts)
        print(
            f"data: {args.customers} customers, {args.orders} orders, {figures['activities']} activity rows "
            f"({args.carts} carts) in {time.perf_counter() - clock:.1f}s"
        )
        win_back = journeys_create()
        now = timezone.now()
        audience = segment_customers(win_back, now=now).count()
        assert bare_sql.win_back_count(now) == audience
        figures["segment_size"] = audience
        figures["segment_count_s"] = median_seconds(lambda: segment_count(WIN_BACK_RULES, now=now), 5)
        figures["segment_bare_s"] = median_seconds(lambda: bare_sql.win_back_count(now), 5)
        print(
            f"win-back segment ({audience} customers): count {figures['segment_count_s']:.3f}s, "
            f"hand-written SQL {figures['segment_bare_s']:.3f}s"
        )
        figures["tick_first_s"] = timed_tick("tick 1 (enrol + first steps)", now)
        idle = [now + timedelta(minutes=m) for m in (1, 2, 3)]
        figures["tick_bare_s"] = median_seconds(lambda: bare_sql.tick_reads(idle[0]), 3)
        print(f"tick's reads in hand-written SQL: {figures['tick_bare_s']:.3f}s")
        figures["tick_idle_s"] = statistics.median(timed_tick(f"tick at +{m + 1} min", at) for m, at in enumerate(idle))
        figures["tick_week_s"] = timed_tick("tick a week later", now + timedelta(days=7, minutes=4))
        by_status = dict(Message.objects.values_list("status").annotate(n=django.db.models.Count("id")))
        figures["messages"] = by_status
        print(f"messages: {by_status}")
    finally:
        connection.creation.destroy_test_db(original, verbosity=0)
        print(f"dropped {test_db}")
    if args.json:
        Path(args.json).write_text(json.dumps(figures))


if __name__ == "__main__":
    main()
