"""Files a spreadsheet or a hand edit gets wrong: a quote that never closes, a column named twice.

Through the commands by name, as a shop owner runs them. The admin upload is covered in
tests/browser/test_admin_csv_import.py.
"""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from customers.models import Customer, Order

pytestmark = pytest.mark.django_db


def run(tmp_path, command: str, text: str) -> tuple[int, str, str]:
    path = tmp_path / "file.csv"
    path.write_text(text, encoding="utf-8")
    out, err = StringIO(), StringIO()
    code = 0
    try:
        call_command(command, str(path), "--no-progress", "--chunk-size", "2", stdout=out, stderr=err)
    except CommandError as exc:
        code = exc.returncode
        err.write(str(exc))
    return code, out.getvalue(), err.getvalue()


def test_unterminated_quote_fails_its_line_and_the_rows_after_it_still_import(tmp_path):
    code, out, err = run(
        tmp_path,
        "import_customers",
        "\n".join(
            [
                "email,first_name",
                "ann@example.com,Ann",
                'bob@example.com,"Bob',
                "cy@example.com,Cy",
                "di@example.com,Di",
            ]
        )
        + "\n",
    )

    assert code == 1
    assert "file.csv line 3: unterminated quote" in err
    assert "4 rows: created 3, updated 0, failed 1" in out
    assert dict(Customer.objects.values_list("email", "first_name")) == {
        "ann@example.com": "Ann",
        "cy@example.com": "Cy",
        "di@example.com": "Di",
    }


def test_a_quote_running_on_for_many_lines_is_cut_short_and_reported(tmp_path):
    rows = "".join(f"p{i}@example.com,P{i}\n" for i in range(300))
    code, out, err = run(tmp_path, "import_customers", 'email,first_name\n"broken@example.com,X\n' + rows)

    assert code == 1
    assert "line 2: unterminated quote" in err
    assert Customer.objects.count() == 300 and not Customer.objects.filter(first_name__contains="\n").exists()


def test_quoted_cells_with_line_breaks_still_import(tmp_path):
    code, out, err = run(
        tmp_path, "import_customers", 'email,first_name\n"ann@example.com","Ann\nMarie"\nbo@example.com,Bo\n'
    )

    assert code == 0, err
    assert Customer.objects.get(email="ann@example.com").first_name == "Ann\nMarie"
    assert Customer.objects.filter(email="bo@example.com").exists()


def test_unterminated_quote_in_an_orders_file(tmp_path):
    code, out, err = run(
        tmp_path,
        "import_orders",
        "order_id,email,placed_at,total\n"
        "o1,a@example.com,2024-01-01,10\n"
        'o2,"b@example.com,2024-01-02,20\n'
        "o3,c@example.com,2024-01-03,30\n",
    )

    assert code == 1 and "line 3: unterminated quote" in err
    assert sorted(Order.objects.values_list("external_id", flat=True)) == ["o1", "o3"]


@pytest.mark.parametrize(
    ("command", "header", "row"),
    [
        ("import_customers", "email,first_name,Email", "a@example.com,Ann,b@example.com"),
        ("import_orders", "order_id,email,placed_at,total,total", "o1,a@example.com,2024-01-01,10,99"),
    ],
)
def test_a_column_named_twice_refuses_the_whole_file(tmp_path, command, header, row):
    code, out, err = run(tmp_path, command, f"{header}\n{row}\n")

    assert code == 2
    assert "names a column more than once" in err and "nothing was imported" in err
    assert not Customer.objects.exists() and not Order.objects.exists()
