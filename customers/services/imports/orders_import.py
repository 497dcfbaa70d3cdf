"""Import orders from CSV, one row per order line; rows sharing order_id form one order.

Rows of one order need not be adjacent: orders are upserted by order_id and lines by
(order, sku), so a repeated order_id anywhere in the file updates the same order and a
repeated (order_id, sku) updates the same line. The order's own columns (customer,
placed_at, total, currency) are taken from the last row read for that order. Adjacent
rows of one order are kept in one chunk, so counts are exact for grouped files; an order
whose rows are far apart is counted as created once and then as updated.

The customer is matched by customer_external_id, else by email, else created from email.
The touched customers' order aggregates are recomputed in SQL, set-based, whenever
AGGREGATE_BUFFER of them are pending and at the end: one pass per customer for files
sorted by customer, and bounded memory for any file.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import BinaryIO

from django.db import transaction
from django.db.models import Q

from customers.models import ConsentChange, Customer, Order, OrderItem, Product
from customers.services.consent import new_customers_apply_suppression
from customers.services.imports import csv_rows
from customers.services.imports.csv_rows import RowError
from customers.services.imports.runner import ChunkedImport, ChunkResult, ImportReport, RowFailure
from customers.services.order_aggregates import customer_order_aggregates_refresh

REQUIRED = {"order_id", "placed_at", "total"}
LINE_COLUMNS = ("sku", "product_name", "category", "quantity", "unit_price")
COLUMNS = {"order_id", "customer_external_id", "email", "placed_at", "total", "currency", *LINE_COLUMNS}
ONE_OF = {"customer_external_id", "email"}  # at least one names the customer
DEFAULT_CURRENCY = "EUR"
AGGREGATE_BUFFER = 20_000
AGGREGATE_BATCH = 2_000


@dataclass(frozen=True, slots=True)
class LineRow:
    sku: str
    product_name: str | None
    category: str | None
    quantity: int
    unit_price: Decimal


@dataclass(frozen=True, slots=True)
class OrderRow:
    order_id: str
    customer_external_id: str | None
    email: str | None
    placed_at: dt.datetime
    total: Decimal
    currency: str
    line: LineRow | None


def order_row_parse(values: dict[str, str]) -> OrderRow:
    order_id = csv_rows.text(values, "order_id", max_length=128)
    if not order_id:
        raise RowError("order_id is required")
    external_id = csv_rows.text(values, "customer_external_id", max_length=128)
    email = csv_rows.email(values, required=False)
    if not external_id and not email:
        raise RowError("customer_external_id or email is required")
    line = None
    if any(values.get(name) for name in LINE_COLUMNS):
        sku = csv_rows.text(values, "sku", max_length=128)
        if not sku:
            raise RowError("sku is required when a row has order line columns")
        line = LineRow(
            sku=sku,
            product_name=csv_rows.text(values, "product_name", max_length=255),
            category=csv_rows.text(values, "category", max_length=128),
            quantity=csv_rows.positive_int(values, "quantity") or 1,
            unit_price=csv_rows.money(values, "unit_price", max_digits=12) or Decimal("0.00"),
        )
    return OrderRow(
        order_id=order_id,
        customer_external_id=external_id,
        email=email,
        placed_at=csv_rows.datetime_utc(values, "placed_at", required=True),
        total=csv_rows.money(values, "total", max_digits=14, required=True),
        currency=csv_rows.currency(values) or DEFAULT_CURRENCY,
        line=line,
    )


def _customers_resolve(chunk: list[tuple[int, OrderRow]], result: ChunkResult, *, actor: str) -> dict[int, Customer]:
    """Map line number -> customer, creating the customers that do not exist yet."""
    ext_ids = {row.customer_external_id for _, row in chunk if row.customer_external_id}
    emails = {row.email for _, row in chunk if row.email}
    by_ext: dict[str, Customer] = {}
    by_email: dict[str, Customer] = {}
    for customer in Customer.objects.filter(Q(external_id__in=ext_ids) | Q(email__in=emails)).only(
        "id", "email", "external_id"
    ):
        if customer.external_id:
            by_ext[customer.external_id] = customer
        by_email[customer.email] = customer
    new: list[Customer] = []
    resolved: dict[int, Customer] = {}
    for line, row in chunk:
        customer = by_ext.get(row.customer_external_id or "") or by_email.get(row.email or "")
        if customer is None:
            if not row.email:
                result.failures.append(
                    RowFailure(line, f"no customer with external_id {row.customer_external_id!r} and no email given")
                )
                continue
            customer = Customer(email=row.email, external_id=row.customer_external_id)
            new.append(customer)
            by_email[customer.email] = customer
            if customer.external_id:
                by_ext[customer.external_id] = customer
        resolved[line] = customer
    proofs = new_customers_apply_suppression(customers=new, source="import", actor=actor)
    Customer.objects.bulk_create(new)
    ConsentChange.objects.bulk_create(proofs)
    result.counts["customers created"] += len(new)
    return resolved


def _products_upsert(lines: list[LineRow], result: ChunkResult) -> dict[str, Product]:
    # Per sku, the last name and category given in the chunk (blank cells keep what is known).
    names: dict[str, str | None] = {}
    categories: dict[str, str | None] = {}
    for line in lines:
        names[line.sku] = line.product_name or names.get(line.sku)
        categories[line.sku] = line.category or categories.get(line.sku)
    products = {p.sku: p for p in Product.objects.filter(sku__in=list(names))}
    new, changed = [], []
    for sku, name in names.items():
        category = categories[sku]
        product = products.get(sku)
        if product is None:
            products[sku] = product = Product(sku=sku, name=name or sku, category=category or "")
            new.append(product)
            continue
        dirty = False
        if name and product.name != name:
            product.name, dirty = name, True
        if category and product.category != category:
            product.category, dirty = category, True
        if dirty:
            changed.append(product)
    Product.objects.bulk_create(new)
    Product.objects.bulk_update(changed, ["name", "category"], batch_size=500)
    result.counts["products created"] += len(new)
    result.counts["products updated"] += len(changed)
    return products


class _OrderChunkWriter:
    def __init__(self, *, actor: str) -> None:
        self.actor = actor
        self.touched: set[int] = set()

    def aggregates_flush(self, *, force: bool = False) -> None:
        """Refresh pending customers' aggregates (ids from a refused chunk are refreshed harmlessly)."""
        if not force and len(self.touched) < AGGREGATE_BUFFER:
            return
        ids = sorted(self.touched)
        for start in range(0, len(ids), AGGREGATE_BATCH):
            with transaction.atomic():
                customer_order_aggregates_refresh(customer_ids=ids[start : start + AGGREGATE_BATCH])
        self.touched.clear()

    def __call__(self, chunk: list[tuple[int, OrderRow]]) -> ChunkResult:
        result = ChunkResult()
        customers = _customers_resolve(chunk, result, actor=self.actor)
        rows = [(line, row) for line, row in chunk if line in customers]
        if not rows:
            return result

        latest: dict[str, tuple[OrderRow, Customer]] = {}
        for line, row in rows:
            latest[row.order_id] = (row, customers[line])
        existing = dict(Order.objects.filter(external_id__in=list(latest)).values_list("external_id", "customer_id"))
        self.touched.update(existing.values())
        orders = [
            Order(
                external_id=order_id,
                customer_id=customer.pk,
                placed_at=row.placed_at,
                total=row.total,
                currency=row.currency,
            )
            for order_id, (row, customer) in latest.items()
        ]
        Order.objects.bulk_create(
            orders,
            update_conflicts=True,
            unique_fields=["external_id"],
            update_fields=["customer", "placed_at", "total", "currency"],
        )
        order_pks = {order.external_id: order.pk for order in orders}
        self.touched.update(order.customer_id for order in orders)
        result.counts["created"] += len(latest) - len(existing)
        result.counts["updated"] += len(existing)

        self._lines_upsert(rows, order_pks, result)
        return result

    def _lines_upsert(self, rows: list[tuple[int, OrderRow]], order_pks: dict[str, int], result: ChunkResult) -> None:
        lines: dict[tuple[int, str], LineRow] = {}
        for _, row in rows:
            if row.line is not None:
                lines[(order_pks[row.order_id], row.line.sku)] = row.line
        if not lines:
            return
        products = _products_upsert(list(lines.values()), result)
        existing = set(
            OrderItem.objects.filter(
                order_id__in={pk for pk, _ in lines}, sku__in={sku for _, sku in lines}
            ).values_list("order_id", "sku")
        )
        items = [
            OrderItem(
                order_id=order_pk,
                sku=sku,
                product_id=products[sku].pk,
                product_name=line.product_name or products[sku].name,
                category=line.category or products[sku].category,
                quantity=line.quantity,
                unit_price=line.unit_price,
            )
            for (order_pk, sku), line in lines.items()
        ]
        OrderItem.objects.bulk_create(
            items,
            update_conflicts=True,
            unique_fields=["order", "sku"],
            update_fields=["product", "product_name", "category", "quantity", "unit_price"],
        )
        updated = len(existing & set(lines))
        result.counts["lines created"] += len(lines) - updated
        result.counts["lines updated"] += updated


def orders_import(
    *,
    stream: BinaryIO,
    actor: str,
    chunk_size: int = 2000,
    on_failure: Callable[[RowFailure], None] | None = None,
    on_rows: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import an orders CSV from an open binary stream (UTF-8). Raises ImportAborted for an unreadable file."""
    records = csv_rows.csv_records(stream, required=REQUIRED, known=COLUMNS, one_of=ONE_OF)
    writer = _OrderChunkWriter(actor=actor)
    job = ChunkedImport(
        parse=order_row_parse,
        write=writer,
        after_chunk=writer.aggregates_flush,
        chunk_size=chunk_size,
        group_key=lambda row: row.order_id,
        on_failure=on_failure,
        on_rows=on_rows,
    )
    try:
        return job.run(records)
    finally:
        writer.aggregates_flush(force=True)
