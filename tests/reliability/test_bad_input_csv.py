"""Property-based: CSV imports of customers and orders with generated hostile rows.

Never an exception; every row either lands or is reported with its line number; a reported
row leaves nothing behind; valid rows land whatever their neighbours contain.
"""

from __future__ import annotations

import csv
import io
import itertools

import pytest
from django.db import DataError, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from customers.models import Customer, Order
from customers.services.imports import customers_import, orders_import

pytestmark = pytest.mark.django_db

FUZZ = settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
_serial = itertools.count()

hostile_text = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        ["", " ", "\x00", '"', '""', "a,b", "line\nbreak", "cr\rhere", "\ufeffbom", "=cmd|' /C calc'!A0",
         "<script>alert(1)</script>", "{{ 7*7 }}", "x" * 400, "\u2028", "é"]
    ),
)  # fmt: skip
bad_dates = st.sampled_from(
    ["2024-13-45", "9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+14:00", "yesterday", "1e9"]
)
bad_money = st.sampled_from(["-1", "1e9999", "NaN", "Infinity", "0.001", "12,50", "9" * 30, "€5"])

CUSTOMER_MUTATIONS = {
    "email": st.one_of(hostile_text, st.sampled_from(["not-an-email", "a@b", "x" * 300 + "@example.test", "@x.test"])),
    "external_id": hostile_text,
    "first_name": hostile_text,
    "last_name": hostile_text,
    "created_at": st.one_of(hostile_text, bad_dates),
    "timezone": st.one_of(hostile_text, st.sampled_from(["Mars/Olympus", "../../etc/passwd", "UTC"])),
    "locale": st.one_of(hostile_text, st.sampled_from(["de-DE", "x" * 20, "zz_ZZZZZZZZZ"])),
    "email_consent": st.one_of(hostile_text, st.sampled_from(["maybe", "TRUE", "1", "no"])),
}
ORDER_MUTATIONS = {
    "order_id": st.one_of(hostile_text, st.just("o" * 200)),
    "email": st.sampled_from(["nobody@example.test", "not-an-email", ""]),
    "placed_at": st.one_of(hostile_text, bad_dates),
    "total": st.one_of(hostile_text, bad_money),
    "currency": st.one_of(hostile_text, st.sampled_from(["EURO", "eu", "123"])),
    "sku": st.one_of(hostile_text, st.just("s" * 200)),
    "product_name": hostile_text,
    "quantity": st.one_of(hostile_text, st.sampled_from(["-3", "0", "99999999999", "1.5"])),
    "unit_price": st.one_of(hostile_text, bad_money),
}


@st.composite
def rows(draw, mutations: dict, valid) -> list[tuple[dict, bool]]:
    """Rows that start valid; some get up to two fields replaced. Returns (row, was_mutated)."""
    out = []
    for _ in range(draw(st.integers(1, 6))):
        serial = next(_serial)
        row = valid(serial)
        fields = draw(st.lists(st.sampled_from(sorted(mutations)), max_size=2, unique=True))
        for field in fields:
            row[field] = draw(mutations[field])
            if field in ("order_id", "external_id") and row[field].strip():
                row[field] += f"~{serial}"  # hostile but unique: examples share one database
        out.append((row, bool(fields)))
    return out


def _csv(columns: list[str], data: list[tuple[dict, bool]]) -> tuple[bytes, list[int]]:
    """The file, and the line each record ends on (what the import reports)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns)  # \r\n: cells with \r or \n get quoted
    writer.writeheader()
    ends = []
    for row, _mutated in data:
        writer.writerow(row)
        ends.append(len(buffer.getvalue().encode().splitlines()))
    return buffer.getvalue().encode(), ends


def _check(report, data: list[tuple[dict, bool]], ends: list[int], *, landed) -> None:
    failed_lines = [failure.line for failure in report.failures]
    assert len(failed_lines) == report.failed
    assert all(line in ends for line in failed_lines), (failed_lines, ends)
    for (row, mutated), line in zip(data, ends, strict=True):
        if not any(str(v).strip() for v in row.values()):
            continue  # a blank line is skipped, as a spreadsheet's empty row
        if line in failed_lines:
            assert failed_lines.count(line) == 1
            assert not landed(row), f"line {line} was reported but partly written"
        else:
            assert landed(row), f"line {line} was neither imported nor reported"
        if not mutated and "\x00" not in row.get("first_name", ""):
            assert line not in failed_lines, f"a valid row failed: {report.failures}"


CUSTOMER_COLUMNS = [
    "external_id",
    "email",
    "first_name",
    "last_name",
    "created_at",
    "timezone",
    "locale",
    "email_consent",
]


def _valid_customer(serial: int) -> dict:
    return {
        "external_id": f"x{serial}",
        "email": f"csv{serial}@example.test",
        "first_name": "Ann",
        "last_name": "Lee",
        "created_at": "2024-01-02T03:04:05Z",
        "timezone": "Europe/Berlin",
        "locale": "de-DE",
        "email_consent": "true",
    }


@FUZZ
@given(data=rows(CUSTOMER_MUTATIONS, _valid_customer))
def test_customer_csv_with_hostile_rows(data):
    body, ends = _csv(CUSTOMER_COLUMNS, data)
    report = customers_import(stream=io.BytesIO(body), actor="fuzz")
    assert report.rows == sum(1 for row, _ in data if any(str(v).strip() for v in row.values())), (data, body)

    def landed(row: dict) -> bool:
        ext = row["external_id"].strip()
        if ext:
            return _exists(Customer.objects.filter(external_id=ext))
        return _exists(Customer.objects.filter(email__iexact=row["email"].strip()))  # no id: the email decides

    _check(report, data, ends, landed=landed)


def _exists(rows) -> bool:
    """False also for a value this database cannot hold (PostgreSQL text refuses NUL)."""
    try:
        with transaction.atomic():
            return rows.exists()
    except DataError:
        return False


ORDER_COLUMNS = ["order_id", "email", "placed_at", "total", "currency", "sku", "product_name", "quantity", "unit_price"]


def _valid_order(serial: int) -> dict:
    return {
        "order_id": f"o{serial}",
        "email": "buyer@example.test",
        "placed_at": "2024-03-01T10:00:00Z",
        "total": "20.00",
        "currency": "EUR",
        "sku": f"sku{serial}",
        "product_name": "Mug",
        "quantity": "2",
        "unit_price": "10.00",
    }


@FUZZ
@given(data=rows(ORDER_MUTATIONS, _valid_order))
def test_order_csv_with_hostile_rows(data):
    Customer.objects.get_or_create(email="buyer@example.test")
    body, ends = _csv(ORDER_COLUMNS, data)
    report = orders_import(stream=io.BytesIO(body), actor="fuzz")

    def landed(row: dict) -> bool:
        order_id = row["order_id"].strip()
        return bool(order_id) and _exists(Order.objects.filter(external_id=order_id))

    _check(report, data, ends, landed=landed)


def test_regression_out_of_range_dates_and_huge_amounts_are_row_errors_not_crashes():
    Customer.objects.create(email="buyer@example.test")
    customers = b"email,created_at\na@example.test,9999-12-31T23:59:59-23:59\nb@example.test,2024-01-01\n"
    report = customers_import(stream=io.BytesIO(customers), actor="test")
    assert [(f.line, "out of range" in f.reason) for f in report.failures] == [(2, True)]
    assert list(
        Customer.objects.filter(email__in=["a@example.test", "b@example.test"]).values_list("email", flat=True)
    ) == ["b@example.test"]
    orders = (
        b"order_id,email,placed_at,total\no1,buyer@example.test,2024-03-01,1E30\no2,buyer@example.test,2024-03-01,5\n"
    )
    report = orders_import(stream=io.BytesIO(orders), actor="test")
    assert [(f.line, "too large" in f.reason) for f in report.failures] == [(2, True)]
    assert list(Order.objects.values_list("external_id", flat=True)) == ["o2"]
