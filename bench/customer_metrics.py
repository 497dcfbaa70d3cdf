"""Customer metrics at scale: full recompute vs the hand-written SQL it rests on.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<db> .venv/bin/python bench/customer_metrics.py \
        [--customers 100000] [--orders 1000000] [--repeat 3]

Works in a throw-away test database (test_<db>, created and dropped here), never in the
configured one. Data is generated in SQL with generate_series: 90% of customers buy, each
1 + a rounded-down exponential number of orders, spread over two years.
Baselines, from the same run: the read-only SQL aggregate (GROUP BY + fetch), and the SQL that
does the nightly job by hand: that aggregate and one UPDATE writing the same 16 columns to the
same rows (rolled back). Also reports the share of the row updates PostgreSQL did in place (HOT).
Prints the median of each timing and their ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from customers.metrics import aggregates  # noqa: E402
from customers.metrics.compute import customer_metrics_compute  # noqa: E402
from customers.models import Customer  # noqa: E402

CUSTOMER_SQL_VALUES = {
    "email": "'c' || g || '@bench.example'",
    "consent": "'granted'",
    "created_at": "now() - interval '800 days'",
    "updated_at": "now()",
}


def insert_customers(n: int) -> None:
    """Every NOT NULL column gets its model default, so the insert follows the model as it grows."""
    columns, values, params = [], [], []
    for field in Customer._meta.concrete_fields:
        if field.primary_key:
            continue
        if field.name in CUSTOMER_SQL_VALUES:
            columns.append(field.column)
            values.append(CUSTOMER_SQL_VALUES[field.name])
        elif not field.null:
            default = field.get_default()  # "" for text fields without a default
            if default is None:
                raise SystemExit(f"bench: no value for Customer.{field.name}")
            columns.append(field.column)
            values.append("%s")
            params.append(field.get_db_prep_save(default, connection))
    sql = (
        f"INSERT INTO {Customer._meta.db_table} ({', '.join(columns)}) "
        f"SELECT {', '.join(values)} FROM generate_series(1, {int(n)}) AS g"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def insert_orders(n_orders: int, n_customers: int) -> None:
    """90% of customers buy; order counts per buyer are 1 + a rounded-down exponential."""
    buyers = int(n_customers * 0.9)
    mean_extra = max(n_orders / buyers - 0.5, 0.0)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO customers_order (external_id, customer_id, placed_at, total, currency, created_at)
            SELECT 'b' || c.id || '-' || k, c.id, now() - random() * interval '730 days',
                   round((5 + random() * 120)::numeric, 2), 'EUR', now()
            FROM (SELECT id, 1 + floor(-ln(1 - random()) * %s)::int AS n
                  FROM {Customer._meta.db_table} ORDER BY id LIMIT %s) AS c
            CROSS JOIN LATERAL generate_series(1, c.n) AS k
            """,
            [mean_extra, buyers],
        )
        cursor.execute("SELECT count(*) FROM customers_order")
        print(f"orders generated: {cursor.fetchone()[0]}")
        cursor.execute("ANALYZE customers_order")
        cursor.execute(f"ANALYZE {Customer._meta.db_table}")


def bare_aggregate() -> float:
    start = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(aggregates.order_summary_sql(), aggregates.order_summary_params(timezone.now()))
        cursor.fetchall()
    return time.perf_counter() - start


# The same 16 columns the metrics write, computed in SQL from the same GROUP BY: quintile scores
# by rank (ties share a score), average order value, mean gap, a closed-form BG/NBD P(alive) with
# fixed parameters, expected purchases and value from it. The two indexed labels (segment and
# stage) are written back as stored, as on most nights, so both sides can update rows in place.
BARE_WRITE_SQL = f"""
    WITH s AS (
        SELECT customer_id, count(*) AS n, sum(total) AS spent, min(placed_at) AS first_at, max(placed_at) AS last_at
        FROM customers_order WHERE placed_at < %(now)s GROUP BY customer_id
    ), q AS (
        SELECT s.*, count(*) OVER () AS buyers,
               rank() OVER (ORDER BY last_at) - 1 AS r_worse, rank() OVER (ORDER BY n) - 1 AS f_worse,
               rank() OVER (ORDER BY spent) - 1 AS m_worse,
               EXTRACT(EPOCH FROM (last_at - first_at))::float8 / 86400.0 AS t_x,
               EXTRACT(EPOCH FROM (%(now)s - first_at))::float8 / 86400.0 AS age
        FROM s
    ), p AS (
        SELECT q.*, CASE WHEN n > 1 THEN 1.0 / (1.0 + (0.79 / (2.43 + n - 2))
                         * power((4.41 + age) / (4.41 + t_x), 0.24 + n - 1)) END AS p_alive
        FROM q
    )
    UPDATE {Customer._meta.db_table} c SET
        orders_count = p.n, total_spent = p.spent, average_order_value = round(p.spent / p.n, 2),
        first_order_at = p.first_at, last_order_at = p.last_at,
        mean_days_between_orders = CASE WHEN p.n > 1 THEN round((p.t_x / (p.n - 1))::numeric, 3) END,
        recency_score = 1 + least(4, (5 * p.r_worse) / p.buyers),
        frequency_score = 1 + least(4, (5 * p.f_worse) / p.buyers),
        monetary_score = 1 + least(4, (5 * p.m_worse) / p.buyers),
        rfm_segment = c.rfm_segment, lifecycle_stage = c.lifecycle_stage,
        churn_risk = round((1 - p.p_alive)::numeric, 6), p_alive = round(p.p_alive::numeric, 6),
        expected_purchases_90d = round((coalesce(p.p_alive, 1) * p.n * 90 / greatest(p.age, 1))::numeric, 6),
        expected_order_value = round(p.spent / p.n, 2),
        predicted_value = round((coalesce(p.p_alive, 1) * p.n * 90 / greatest(p.age, 1))::numeric * p.spent / p.n, 2),
        metrics_computed_at = %(now)s
    FROM p WHERE c.id = p.customer_id
"""


def bare_aggregate_write() -> float:
    """The hand-written SQL the nightly write rests on: the aggregate and one UPDATE of the same
    columns and rows, rolled back so every run starts from the rows the metrics wrote."""
    from django.db import transaction

    start = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '64MB'")  # its three sorts stay in memory
        cursor.execute(BARE_WRITE_SQL, {"now": timezone.now()})
        seconds = time.perf_counter() - start
        transaction.set_rollback(True)
    return seconds


def in_place_share(function) -> tuple[float, float]:
    """Run `function`; return its result and the share of its customer updates done in place (HOT)."""
    sql = "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = %s"
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(sql, [Customer._meta.db_table])
        before = cursor.fetchone()
        result = function()
        time.sleep(0.6)  # statistics reach the view with a short delay
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(sql, [Customer._meta.db_table])
        after = cursor.fetchone()
    updated = after[0] - before[0]
    return result, (after[1] - before[1]) / updated if updated else 0.0


def full_compute() -> tuple[float, dict[str, float], int]:
    start = time.perf_counter()
    run = customer_metrics_compute()
    return time.perf_counter() - start, run.seconds, run.buyers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", help="Also write the figures to this JSON file (for bench/run.py).")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("bench: set DATABASE_URL to a PostgreSQL database")

    original = connection.settings_dict["NAME"]
    test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        clock = time.perf_counter()
        insert_customers(args.customers)
        insert_orders(args.orders, args.customers)
        print(f"data: {args.customers} customers in {time.perf_counter() - clock:.1f}s")

        bare_aggregate()  # warm the cache so both timings read the same pages
        bare, full, phases, buyers = [], [], [], 0
        for _ in range(args.repeat):
            bare.append(bare_aggregate())
            seconds, run_phases, buyers = full_compute()
            full.append(seconds)
            phases.append(run_phases)
        bare_s = statistics.median(bare)
        print(f"buyers: {buyers}")
        print(f"bare SQL aggregate (GROUP BY + fetch): median {bare_s:.3f}s  runs {[round(b, 3) for b in bare]}")
        print(f"full metrics compute: runs {[round(f, 3) for f in full]}")
        for i in (0, len(phases) - 1):
            print(f"  run {i + 1} by phase: " + ", ".join(f"{k} {v:.3f}s" for k, v in phases[i].items()))
        # The first run turns every customer from lead into a buyer (each indexed column changes);
        # later runs are the nightly case, where most rows keep their stage, segment and counts.
        print(f"ratio first run / bare: {full[0] / bare_s:.2f}x")
        if len(full) > 1:
            print(f"ratio median of later runs / bare: {statistics.median(full[1:]) / bare_s:.2f}x")
        before_write = statistics.median(sum(v for k, v in p.items() if k not in {"write", "leads"}) for p in phases)
        print(f"ratio median compute before writing (aggregate + NumPy + fits) / bare: {before_write / bare_s:.2f}x")
        figures = {"customers": args.customers, "buyers": buyers, "bare_s": bare_s, "runs_s": full}
        figures |= {"nightly_s": statistics.median(full[1:] or full), "before_write_s": before_write}
        figures["phases_last_run"] = phases[-1]
        bare_write, hot = [], []
        for _ in range(args.repeat):
            seconds, share = in_place_share(bare_aggregate_write)
            bare_write.append(seconds)
            hot.append(share)
        figures["bare_write_s"] = statistics.median(bare_write)
        _, figures["in_place_share"] = in_place_share(full_compute)
        figures["bare_in_place_share"] = statistics.median(hot)
        print(
            f"hand-written aggregate + UPDATE of the same columns: {figures['bare_write_s']:.3f}s "
            f"(ratio {figures['nightly_s'] / figures['bare_write_s']:.2f}x); updates in place: "
            f"metrics {figures['in_place_share']:.0%}, hand SQL {figures['bare_in_place_share']:.0%}"
        )
    finally:
        connection.creation.destroy_test_db(original, verbosity=0)
        print(f"dropped {test_db}")
    if args.json:
        Path(args.json).write_text(json.dumps(figures))


if __name__ == "__main__":
    main()
