"""Per-customer order summary as of a moment, aggregated in SQL (one GROUP BY over orders)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
from django.db import connection

# The mean gap between consecutive orders telescopes to (last - first) / (count - 1), so one
# GROUP BY gives every figure the metrics need; no window over individual orders is required.
# First/last order times come back twice: as text, written back verbatim (no precision lost),
# and as epoch seconds for the arithmetic.
_SQL = {
    "postgresql": """
        SELECT customer_id, COUNT(*), SUM(total)::float8,
               MIN(placed_at)::text, MAX(placed_at)::text,
               EXTRACT(EPOCH FROM MIN(placed_at))::float8, EXTRACT(EPOCH FROM MAX(placed_at))::float8
        FROM customers_order WHERE placed_at < %s GROUP BY customer_id
    """,
    "sqlite": """
        SELECT customer_id, COUNT(*), SUM(total),
               MIN(placed_at), MAX(placed_at),
               (julianday(MIN(placed_at)) - 2440587.5) * 86400.0, (julianday(MAX(placed_at)) - 2440587.5) * 86400.0
        FROM customers_order WHERE placed_at < %s GROUP BY customer_id
    """,
}


@dataclass
class OrderSummary:
    """One entry per customer with at least one order before `as_of` (parallel arrays)."""

    as_of: datetime
    customer_id: np.ndarray  # int64
    orders_count: np.ndarray  # int64
    total_spent: np.ndarray  # float64; exact to the cent after rounding for any realistic sum
    first_order_text: list[str]
    last_order_text: list[str]
    first_order_epoch: np.ndarray  # seconds
    last_order_epoch: np.ndarray

    def __len__(self) -> int:
        return int(self.customer_id.size)


def order_summary_sql() -> str:
    try:
        return _SQL[connection.vendor]
    except KeyError as exc:
        raise NotImplementedError(f"customer metrics support PostgreSQL and SQLite, not {connection.vendor}") from exc


def order_summary_params(as_of: datetime) -> list:
    """Parameters for `order_summary_sql`, converted the way the backend stores datetimes."""
    return [connection.ops.adapt_datetimefield_value(as_of)]


def order_summary(*, as_of: datetime) -> OrderSummary:
    with connection.cursor() as cursor:
        cursor.execute(order_summary_sql(), order_summary_params(as_of))
        rows = cursor.fetchall()
    if rows:
        ids, counts, totals, first_txt, last_txt, first_ep, last_ep = zip(*rows, strict=True)
    else:
        ids = counts = totals = first_txt = last_txt = first_ep = last_ep = ()
    return OrderSummary(
        as_of=as_of,
        customer_id=np.asarray(ids, dtype=np.int64),
        orders_count=np.asarray(counts, dtype=np.int64),
        total_spent=np.asarray(totals, dtype=np.float64),
        first_order_text=list(first_txt),
        last_order_text=list(last_txt),
        first_order_epoch=np.asarray(first_ep, dtype=np.float64),
        last_order_epoch=np.asarray(last_ep, dtype=np.float64),
    )
