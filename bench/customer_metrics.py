"""Customer metrics at scale: full recompute vs the bare SQL aggregate it rests on.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<db> .venv/bin/python bench/customer_metrics.py \
        [--customers 100000] [--orders 1000000] [--repeat 3]

Works in a throw-away test database (test_<db>, created and dropped here), never in the
configured one. Data is generated in SQL with generate_series: 90% of customers buy, each
1 + a rounded-down exponential number of orders, spread over two years.
Prints the median of each timing and their ratio, all from the same run.
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


def bare_update() -> float:
    """Context for the write phase: the order stats aggregated and written back in one hand-written
    UPDATE (5 columns, against the ~20 the metrics write), rolled back so every run sees the same rows."""
    from django.db import transaction

    start = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""UPDATE {Customer._meta.db_table} c SET orders_count = s.n, total_spent = s.spent,
                       first_order_at = s.first_at, last_order_at = s.last_at,
                       mean_days_between_orders = CASE WHEN s.n > 1
                           THEN EXTRACT(EPOCH FROM (s.last_at - s.first_at)) / 86400.0 / (s.n - 1) END
                FROM (SELECT customer_id, count(*) n, sum(total) spent, min(placed_at) first_at,
                             max(placed_at) last_at FROM customers_order GROUP BY customer_id) s
                WHERE s.customer_id = c.id"""
        )
        seconds = time.perf_counter() - start
        transaction.set_rollback(True)
    return seconds


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
        figures["bare_update_s"] = statistics.median(bare_update() for _ in range(args.repeat))
        print(f"hand-written aggregate + UPDATE of the order stats: {figures['bare_update_s']:.3f}s")
    finally:
        connection.creation.destroy_test_db(original, verbosity=0)
        print(f"dropped {test_db}")
    if args.json:
        Path(args.json).write_text(json.dumps(figures))


if __name__ == "__main__":
    main()
