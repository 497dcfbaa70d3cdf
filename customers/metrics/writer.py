"""Write computed metrics back to customers in chunks.

PostgreSQL: one `UPDATE … FROM unnest(arrays)` per chunk — one round trip and one
parameter per column whatever the chunk size. The next chunk's array literals are built in a
helper thread while PostgreSQL runs the current UPDATE (the driver releases the GIL while it
waits), so Python's share of the write overlaps the database's. Other backends: a
parameterised UPDATE run with executemany per chunk. Each chunk commits on its own, so row
locks are held briefly.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from django.db import connection, transaction

from customers.models import Customer

_TABLE = Customer._meta.db_table

# (column, PostgreSQL array type)
COLUMNS: list[tuple[str, str]] = [
    ("orders_count", "integer"),
    ("total_spent", "numeric"),
    ("average_order_value", "numeric"),
    ("first_order_at", "timestamptz"),
    ("last_order_at", "timestamptz"),
    ("mean_days_between_orders", "float8"),
    ("recency_score", "integer"),
    ("frequency_score", "integer"),
    ("monetary_score", "integer"),
    ("rfm_segment", "text"),
    ("lifecycle_stage", "text"),
    ("churn_risk", "float8"),
    ("p_alive", "float8"),
    ("expected_purchases_90d", "float8"),
    ("expected_order_value", "numeric"),
    ("predicted_value", "numeric"),
]


def _postgres_sql() -> str:
    names = ", ".join(name for name, _ in COLUMNS)
    arrays = ", ".join(f"%s::{kind}[]" for _, kind in COLUMNS)
    sets = ", ".join(f"{name} = v.{name}" for name, _ in COLUMNS)
    return (
        f"UPDATE {_TABLE} AS c SET {sets}, metrics_computed_at = %s "  # noqa: S608
        f"FROM unnest(%s::bigint[], {arrays}) AS v(id, {names}) WHERE c.id = v.id"
    )


def _array_literal(values: Sequence, kind: str) -> str:
    """A PostgreSQL array literal built with str.join: the driver then sends one string per
    column instead of quoting every element. Quoted elements are escaped: a stray quote would
    shift every later value onto the wrong customer."""
    if kind in ("text", "timestamptz"):
        body = ",".join("NULL" if v is None else '"' + _escaped(str(v)) + '"' for v in values)
    else:
        body = ",".join("NULL" if v is None else repr(v) for v in values)
    return "{" + body + "}"


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _generic_sql() -> str:
    sets = ", ".join(f"{name} = %s" for name, _ in COLUMNS)
    return f"UPDATE {_TABLE} SET {sets}, metrics_computed_at = %s WHERE id = %s"  # noqa: S608


def _chunk_literals(values: list[Sequence], ids: Sequence[int], start: int, stop: int) -> list[str]:
    arrays = [_array_literal(v[start:stop], kind) for v, (_, kind) in zip(values, COLUMNS, strict=True)]
    return [_array_literal(ids[start:stop], "bigint"), *arrays]


def _postgres_chunks(values: list[Sequence], ids: Sequence[int], batch_size: int) -> Iterator[list[str]]:
    """Each chunk's literals, the following one always being built while the caller writes."""
    starts = range(0, len(ids), batch_size)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="metrics-literals") as pool:
        pending = [pool.submit(_chunk_literals, values, ids, start, start + batch_size) for start in starts[:1]]
        for start in starts:
            literals = pending.pop().result()
            if start + batch_size < len(ids):
                pending.append(pool.submit(_chunk_literals, values, ids, start + batch_size, start + 2 * batch_size))
            yield literals


def write_metrics(*, ids: Sequence[int], columns: dict[str, Sequence], computed_at: datetime, batch_size: int) -> int:
    """`columns` maps each name in COLUMNS to a list parallel to `ids` (None for NULL)."""
    values = [columns[name] for name, _ in COLUMNS]
    stamp = connection.ops.adapt_datetimefield_value(computed_at)
    if connection.vendor == "postgresql":
        sql = _postgres_sql()
        for literals in _postgres_chunks(values, ids, batch_size):
            with transaction.atomic(), connection.cursor() as cursor:
                # A crash can lose only the last chunks, which the next run rewrites anyway.
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
                cursor.execute(sql, [stamp, *literals])
        return len(ids)
    sql = _generic_sql()
    for start in range(0, len(ids), batch_size):
        stop = start + batch_size
        rows = zip(*(v[start:stop] for v in values), strict=True)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(sql, [(*row, stamp, pk) for row, pk in zip(rows, ids[start:stop], strict=True)])
    return len(ids)
