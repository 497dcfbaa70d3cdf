import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from customers.models import Consent, ConsentChange, Customer, EmailStatus
from customers.services.suppression import address_suppress

pytestmark = pytest.mark.django_db

HEADER = "external_id,email,first_name,last_name,created_at,timezone,locale,email_consent\n"


def run_import(tmp_path, body: str, *, header: str = HEADER, name: str = "customers.csv"):
    path = tmp_path / name
    path.write_text(header + body, encoding="utf-8")
    out, err = StringIO(), StringIO()
    code = 0
    try:
        call_command("import_customers", str(path), "--no-progress", stdout=out, stderr=err)
    except CommandError as exc:
        code = exc.returncode
        err.write(str(exc))
    return code, out.getvalue(), err.getvalue()


def test_good_rows_create_customers_with_parsed_values(tmp_path):
    code, out, err = run_import(
        tmp_path,
        "c1, Alice@Example.COM ,Alice,Smith,2024-01-02T03:04:05,Europe/Berlin,de-DE,true\n"
        ",bob@example.com,Bob,,2024-02-03T10:00:00+02:00,,,\n",
    )

    assert code == 0, err
    assert "created 2, updated 0" in out and "failed 0" in out
    alice = Customer.objects.get(external_id="c1")
    assert alice.email == "alice@example.com"
    assert (alice.first_name, alice.last_name) == ("Alice", "Smith")
    assert (alice.timezone, alice.locale) == ("Europe/Berlin", "de-DE")
    assert alice.created_at == dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)  # naive means UTC
    assert alice.consent == Consent.GRANTED and alice.consent_source == "import"
    bob = Customer.objects.get(email="bob@example.com")
    assert bob.external_id is None
    assert bob.created_at == dt.datetime(2024, 2, 3, 8, 0, tzinfo=dt.UTC)
    assert bob.consent == Consent.UNKNOWN
    proof = ConsentChange.objects.get(customer=alice)
    assert (proof.field, proof.old_value, proof.new_value, proof.source) == ("consent", "", "granted", "import")
    assert "customers.csv line 2" in proof.detail


def test_bad_rows_are_reported_by_line_and_good_rows_still_land(tmp_path):
    code, out, err = run_import(
        tmp_path,
        "c1,ok@example.com,,,,,,\n"
        "c2,not-an-email,,,,,,\n"
        "c3,tz@example.com,,,,Mars/Olympus,,\n"
        "c4,date@example.com,,,2024-13-45,,,\n"
        "c5,bool@example.com,,,,,,maybe\n"
        "c6,fine@example.com,,,,,,false\n",
    )

    assert code == 1
    assert "line 3: email is not a valid email address" in err
    assert "line 4: timezone 'Mars/Olympus' is not an IANA time zone name" in err
    assert "line 5: created_at '2024-13-45' is not an ISO 8601 date" in err
    assert "line 6: email_consent must be true, false or blank" in err
    assert "created 2, updated 0, failed 4" in out
    assert set(Customer.objects.values_list("external_id", flat=True)) == {"c1", "c6"}
    assert Customer.objects.get(external_id="c6").consent == Consent.DENIED


def test_rerun_updates_without_duplicating_and_blank_cells_keep_values(tmp_path):
    run_import(tmp_path, "c1,a@example.com,Alice,Smith,,Europe/Berlin,de,true\n")
    code, out, _ = run_import(tmp_path, "c1,a@example.com,Alicia,,,,,true\n")
    assert code == 0
    assert "created 0, updated 1" in out
    code, out, _ = run_import(tmp_path, "c1,a@example.com,Alicia,,,,,\n")
    assert "created 0, updated 0, unchanged 1" in out

    customer = Customer.objects.get()
    assert (customer.first_name, customer.last_name, customer.timezone) == ("Alicia", "Smith", "Europe/Berlin")
    assert ConsentChange.objects.count() == 1  # consent did not change on the re-runs


def test_consent_change_on_rerun_is_recorded(tmp_path):
    run_import(tmp_path, "c1,a@example.com,,,,,,true\n")
    run_import(tmp_path, "c1,a@example.com,,,,,,false\n")

    assert Customer.objects.get().consent == Consent.DENIED
    changes = list(ConsentChange.objects.order_by("id").values_list("old_value", "new_value", "source"))
    assert changes == [("", "granted", "import"), ("granted", "denied", "import")]


def test_external_id_match_wins_and_updates_the_email(tmp_path):
    Customer.objects.create(email="old@example.com", external_id="c1")
    Customer.objects.create(email="noid@example.com")

    code, _, _ = run_import(tmp_path, "c1,new@example.com,,,,,,\nc2,NoId@example.com,,,,,,\n")

    assert code == 0
    assert Customer.objects.get(external_id="c1").email == "new@example.com"
    assert Customer.objects.get(email="noid@example.com").external_id == "c2"  # matched by email
    assert Customer.objects.count() == 2


def test_email_owned_by_another_external_id_is_a_row_error(tmp_path):
    Customer.objects.create(email="a@example.com", external_id="c1")
    Customer.objects.create(email="b@example.com", external_id="c2")

    code, _, err = run_import(tmp_path, "c9,a@example.com,,,,,,\nc2,a@example.com,,,,,,\n")

    assert code == 1
    assert "line 2: email already belongs to the customer with external_id 'c1'" in err
    assert "line 3: email already belongs to another customer" in err
    assert Customer.objects.get(external_id="c2").email == "b@example.com"


def test_duplicate_rows_in_one_file_make_one_customer(tmp_path):
    code, out, _ = run_import(tmp_path, "c1,a@example.com,A,,,,,\n,A@example.com,Ann,,,,,\n")

    assert code == 0
    assert Customer.objects.get().first_name == "Ann"
    assert "created 1, updated 1" in out


def test_missing_required_column_is_a_clear_error(tmp_path):
    code, _, err = run_import(tmp_path, "c1,Alice\n", header="external_id,first_name\n")

    assert code == 2
    assert "missing required column(s): email" in err
    assert not Customer.objects.exists()


def test_unknown_columns_are_ignored_and_header_case_does_not_matter(tmp_path):
    code, _, _ = run_import(tmp_path, "a@example.com,whatever,Ann\n", header="EMAIL,favourite_colour,First_Name\n")

    assert code == 0
    assert Customer.objects.get().first_name == "Ann"


def test_suppressed_address_is_imported_as_not_mailable(tmp_path):
    address_suppress(email="gone@example.com", reason=EmailStatus.UNSUBSCRIBED)

    run_import(tmp_path, "c1,gone@example.com,,,,,,true\n")

    customer = Customer.objects.get()
    assert customer.email_status == EmailStatus.UNSUBSCRIBED
    assert not customer.is_mailable


def test_many_rows_across_chunks(tmp_path):
    body = "".join(f"c{i},user{i}@example.com,,,,,,\n" for i in range(50))
    path = tmp_path / "many.csv"
    path.write_text(HEADER + body + "c50,broken,,,,,,\n")
    out, err = StringIO(), StringIO()

    with pytest.raises(CommandError):
        call_command("import_customers", str(path), "--no-progress", "--chunk-size", "7", stdout=out, stderr=err)

    assert Customer.objects.count() == 50
    assert "line 52: email is not a valid email address" in err.getvalue()


def test_a_line_that_is_not_utf8_fails_alone_and_a_bom_is_accepted(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes(
        "\ufeffemail,first_name\n".encode()
        + "zoe@example.com,Zoë\n".encode()
        + "rene@example.com,René\n".encode("latin-1")
        + b"max@example.com,Max\n"
    )
    err = StringIO()

    with pytest.raises(CommandError):
        call_command("import_customers", str(path), "--no-progress", stdout=StringIO(), stderr=err)

    assert "line 3: the line is not valid UTF-8" in err.getvalue()
    assert dict(Customer.objects.values_list("email", "first_name")) == {
        "zoe@example.com": "Zoë",
        "max@example.com": "Max",
    }
