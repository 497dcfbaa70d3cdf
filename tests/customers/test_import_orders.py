import datetime as dt
import importlib
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from customers.models import Customer, Order, OrderItem, Product
from customers.services.imports.csv_rows import CsvRecord
from customers.services.imports.runner import ChunkedImport, ChunkResult

pytestmark = pytest.mark.django_db
orders_import_module = importlib.import_module("customers.services.imports.orders_import")

HEADER = "order_id,customer_external_id,email,placed_at,total,currency,sku,product_name,category,quantity,unit_price\n"


def run_import(tmp_path, body: str, *, header: str = HEADER, chunk_size: int = 2000):
    path = tmp_path / "orders.csv"
    path.write_text(header + body, encoding="utf-8")
    out, err = StringIO(), StringIO()
    code = 0
    try:
        call_command(
            "import_orders", str(path), "--no-progress", "--chunk-size", str(chunk_size), stdout=out, stderr=err
        )
    except CommandError as exc:
        code = exc.returncode
        err.write(str(exc))
    return code, out.getvalue(), err.getvalue()


def test_rows_sharing_order_id_form_one_order_with_lines(tmp_path):
    Customer.objects.create(email="a@example.com", external_id="c1")

    code, out, err = run_import(
        tmp_path,
        "o1,c1,,2024-03-01T10:00:00Z,30.00,eur,s1,Shirt,Apparel,2,10.00\n"
        "o1,c1,,2024-03-01T10:00:00Z,30.00,eur,s2,Hat,Hats,1,10.00\n"
        "o2,c1,,2024-03-05,9.99,EUR,,,,,\n",
    )

    assert code == 0, err
    assert "created 2, updated 0, failed 0" in out
    order = Order.objects.get(external_id="o1")
    assert order.total == Decimal("30.00") and order.currency == "EUR"
    assert order.placed_at == dt.datetime(2024, 3, 1, 10, tzinfo=dt.UTC)
    lines = {item.sku: item for item in order.items.select_related("product")}
    assert lines["s1"].quantity == 2 and lines["s1"].unit_price == Decimal("10.00")
    assert lines["s1"].product.name == "Shirt" and lines["s2"].product.category == "Hats"
    assert not Order.objects.get(external_id="o2").items.exists()
    customer = Customer.objects.get()
    assert customer.orders_count == 2
    assert customer.total_spent == Decimal("39.99")
    assert customer.average_order_value == Decimal("20.00")  # 19.995 rounded
    assert customer.first_order_at == dt.datetime(2024, 3, 1, 10, tzinfo=dt.UTC)
    assert customer.last_order_at == dt.datetime(2024, 3, 5, tzinfo=dt.UTC)


def test_non_adjacent_rows_of_one_order_never_duplicate(tmp_path):
    body = (
        "o1,,a@example.com,2024-03-01,20,EUR,s1,Shirt,,1,10\n"
        "o2,,b@example.com,2024-03-02,5,EUR,s3,Sock,,1,5\n"
        "o1,,a@example.com,2024-03-01,20,EUR,s2,Hat,,1,10\n"
        "o1,,a@example.com,2024-03-01,20,EUR,s1,Shirt,,1,10\n"
    )
    code, _, _ = run_import(tmp_path, body, chunk_size=1)  # every row in its own chunk

    assert code == 0
    assert Order.objects.count() == 2
    assert sorted(OrderItem.objects.filter(order__external_id="o1").values_list("sku", flat=True)) == ["s1", "s2"]
    assert Customer.objects.get(email="a@example.com").orders_count == 1


def test_rerun_updates_orders_and_lines_without_duplicates(tmp_path):
    run_import(tmp_path, "o1,,a@example.com,2024-03-01,20.00,EUR,s1,Shirt,,2,10.00\n")

    code, out, _ = run_import(tmp_path, "o1,,a@example.com,2024-03-01,35.50,EUR,s1,Shirt XL,,3,11.50\n")

    assert code == 0
    assert "created 0, updated 1" in out and "lines updated 1" in out
    order = Order.objects.get()
    assert order.total == Decimal("35.50")
    item = OrderItem.objects.get()
    assert (item.quantity, item.unit_price, item.product_name) == (3, Decimal("11.50"), "Shirt XL")
    assert Product.objects.get().name == "Shirt XL"
    assert Customer.objects.get().total_spent == Decimal("35.50")


def test_customer_matching_precedence(tmp_path):
    by_ext = Customer.objects.create(email="ext@example.com", external_id="c1")
    by_email = Customer.objects.create(email="mail@example.com")

    code, _, err = run_import(
        tmp_path,
        "o1,c1,mail@example.com,2024-03-01,1,EUR,,,,,\n"  # external id wins over email
        "o2,unknown,MAIL@example.com,2024-03-01,1,EUR,,,,,\n"  # unknown external id: email
        "o3,c7,new@example.com,2024-03-01,1,EUR,,,,,\n"  # neither: created
        "o4,c8,,2024-03-01,1,EUR,,,,,\n",  # nothing to create a customer from
    )

    assert code == 1
    assert Order.objects.get(external_id="o1").customer == by_ext
    assert Order.objects.get(external_id="o2").customer == by_email
    created = Order.objects.get(external_id="o3").customer
    assert (created.email, created.external_id) == ("new@example.com", "c7")
    assert "line 5: no customer with external_id 'c8' and no email given" in err
    assert not Order.objects.filter(external_id="o4").exists()


def test_bad_rows_report_line_numbers_and_good_rows_land(tmp_path):
    code, out, err = run_import(
        tmp_path,
        "o1,,a@example.com,2024-03-01,10,EUR,,,,,\n"
        "o2,,a@example.com,yesterday,10,EUR,,,,,\n"
        "o3,,a@example.com,2024-03-01,ten,EUR,,,,,\n"
        "o4,,a@example.com,2024-03-01,10.001,EUR,,,,,\n"
        "o5,,a@example.com,2024-03-01,10,EURO,,,,,\n"
        "o6,,a@example.com,2024-03-01,10,EUR,,Shirt,,1,\n"
        "o7,,a@example.com,2024-03-01,10,EUR,s1,,,0,1\n"
        ",,a@example.com,2024-03-01,10,EUR,,,,,\n"
        "o9,,a@example.com,2024-03-01,10,EUR,,,,,\n",
    )

    assert code == 1
    for expected in (
        "line 3: placed_at 'yesterday' is not an ISO 8601 date",
        "line 4: total 'ten' is not a number",
        "line 5: total '10.001' has more than two decimal places",
        "line 6: currency 'EURO' is not a three-letter currency code",
        "line 7: sku is required when a row has order line columns",
        "line 8: quantity '0' must be at least 1",
        "line 9: order_id is required",
    ):
        assert expected in err
    assert "created 2, updated 0, failed 7" in out
    assert set(Order.objects.values_list("external_id", flat=True)) == {"o1", "o9"}


def test_reassigned_order_updates_both_customers(tmp_path):
    run_import(tmp_path, "o1,,a@example.com,2024-03-01,10,EUR,,,,,\n")
    run_import(tmp_path, "o1,,b@example.com,2024-03-01,10,EUR,,,,,\n")

    assert Customer.objects.get(email="a@example.com").orders_count == 0
    assert Customer.objects.get(email="a@example.com").total_spent == Decimal("0")
    assert Customer.objects.get(email="b@example.com").orders_count == 1


def test_header_without_customer_columns_is_refused(tmp_path):
    code, _, err = run_import(tmp_path, "o1,2024-03-01,10\n", header="order_id,placed_at,total\n")

    assert code == 2
    assert "at least one of the columns: customer_external_id, email" in err


def test_chunk_refused_by_database_falls_back_to_single_rows():
    Product.objects.create(sku="taken", name="Existing")

    def write(chunk):
        Product.objects.bulk_create([Product(sku=sku, name=sku) for _, sku in chunk])
        return ChunkResult(counts={"created": len(chunk)})

    records = [CsvRecord(line, {"sku": sku}) for line, sku in [(2, "a"), (3, "taken"), (4, "b")]]
    report = ChunkedImport(parse=lambda values: values["sku"], write=write, chunk_size=10).run(records)

    assert report.created == 2 and report.failed == 1
    assert report.failures[0].line == 3 and "database refused" in report.failures[0].reason
    assert set(Product.objects.values_list("sku", flat=True)) == {"taken", "a", "b"}


def test_aggregates_are_right_when_refreshed_in_several_passes(tmp_path, monkeypatch):
    monkeypatch.setattr(orders_import_module, "AGGREGATE_BUFFER", 2)
    body = "".join(f"o{i},c{i % 3},c{i % 3}@example.com,2024-03-{i + 1:02d},{i + 1}.00,EUR,,,,,\n" for i in range(9))

    code, _, _ = run_import(tmp_path, body, chunk_size=1)

    assert code == 0
    totals = dict(Customer.objects.values_list("external_id", "total_spent"))
    assert totals == {"c0": Decimal("12.00"), "c1": Decimal("15.00"), "c2": Decimal("18.00")}
    c2 = Customer.objects.get(external_id="c2")
    assert c2.orders_count == 3 and c2.average_order_value == Decimal("6.00")
    assert c2.first_order_at == dt.datetime(2024, 3, 3, tzinfo=dt.UTC)
    assert c2.last_order_at == dt.datetime(2024, 3, 9, tzinfo=dt.UTC)
