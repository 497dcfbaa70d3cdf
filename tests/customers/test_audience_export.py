import csv
import hashlib
import io

import pytest
from django.core.management import CommandError, call_command

from campaigns.models import Segment
from customers.metrics.audiences import audience_customers, audience_export
from customers.models import Consent, Customer, EmailStatus, LifecycleStage
from customers.services.suppression import address_suppress

pytestmark = pytest.mark.django_db

# Computed independently (coreutils sha256sum); the gmail one is also the example TikTok documents.
SHA_JANE_EXAMPLE = "86e0b9e56c17cc4d12387e1949b85053fbe73bc3ce5a1188713a9d300cc6133d"  # jane.doe@example.com
SHA_JANEDOE_GMAIL = "d6117306485ed0e50afab3ac871e98f81699151f30281527d63ff5f233656c69"  # janedoe@gmail.com
SHA_JANE_DOT_GMAIL = "831f6494ad6be4fcb3a724c3d5fef22d3ceffa3c62ef3a7984e45a0ea177f982"  # jane.doe@gmail.com
SHA_JANE = "81f8f6dde88365f3928796ec7aa53f72820b06db8664f5fe76a7eb13e24546a2"  # jane
SHA_ONEILL = "fa0fd24b2d0175a5c48e1b82f4d707a8a95f5279c4abdc43fa2f19d8e30eb47d"  # oneill
SHA_ONEILL_APOS = "4897794243f02aab17572801e8e9629de1efcf107bcc8671f97aeb3d565b3d68"  # o'neill
SHA_AT = "b1d6b91b67c2afa5e322988d9462638d354ddf8a1ef79dba987f815c22b4baee"  # at


def customer(email, **fields):
    fields.setdefault("consent", Consent.GRANTED)
    c = Customer(email=email, **fields)
    c.save()
    return c


def export(spec, platform):
    out = io.StringIO()
    audience_export(queryset=audience_customers(spec), platform=platform, out=out)
    return list(csv.reader(io.StringIO(out.getvalue())))


def test_meta_rows_are_normalised_and_hashed():
    c = customer("Jane.Doe@Example.com", first_name=" Jane ", last_name="O'Neill", locale="de-AT")
    Customer.objects.filter(pk=c.pk).update(email="  Jane.Doe@Example.com ")  # as a raw import might leave it
    rows = export("all", "meta")
    assert rows == [["EMAIL", "FN", "LN", "COUNTRY"], [SHA_JANE_EXAMPLE, SHA_JANE, SHA_ONEILL, SHA_AT]]


def test_google_rows_use_customer_match_headers_and_gmail_rules():
    customer("Jane.Doe@GMail.com", first_name="Jane", last_name="O'Neill", locale="de_AT")
    rows = export("all", "google")
    assert rows[0] == ["Email", "First Name", "Last Name", "Country", "Zip"]
    # Dots before @gmail.com go; names keep punctuation; country and zip are sent in clear.
    assert rows[1] == [SHA_JANEDOE_GMAIL, SHA_JANE, SHA_ONEILL_APOS, "at", ""]
    assert rows[1][0] != SHA_JANE_DOT_GMAIL


def test_empty_values_stay_empty():
    customer("solo@example.com")
    assert export("all", "meta")[1][1:] == ["", "", ""]


def test_only_consented_subscribed_unsuppressed_customers_are_exported():
    customer("ok@example.com")
    customer("unknown@example.com", consent=Consent.UNKNOWN)
    customer("denied@example.com", consent=Consent.DENIED)
    for status in (EmailStatus.UNSUBSCRIBED, EmailStatus.BOUNCED, EmailStatus.COMPLAINED):
        customer(f"{status}@example.com", email_status=status)
    customer("listed@example.com")
    address_suppress(email="listed@example.com", reason="manual")
    rows = export("all", "meta")
    assert len(rows) == 2
    assert rows[1][0] == hashlib.sha256(b"ok@example.com").hexdigest()


def test_stage_and_rfm_filters_and_saved_segments(tmp_path):
    customer("risky@example.com", lifecycle_stage=LifecycleStage.AT_RISK, rfm_segment="champions")
    customer("fine@example.com", lifecycle_stage=LifecycleStage.ACTIVE)
    assert len(export("stage:at_risk", "meta")) == 2
    assert len(export("rfm:champions", "google")) == 2
    Segment.objects.create(name="Everyone", rules={})
    target = tmp_path / "audience.csv"
    call_command("export_audience", "Everyone", str(target), "--format", "google")
    assert target.read_text().count("\n") == 3


def test_unknown_audience_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="no segment named"):
        call_command("export_audience", "Nope", str(tmp_path / "x.csv"))
    with pytest.raises(CommandError, match="unknown stage"):
        call_command("export_audience", "stage:sleepy", str(tmp_path / "x.csv"))


def test_export_pages_through_large_audiences(settings):
    settings.AUDIENCE_EXPORT_CHUNK = 3
    Customer.objects.bulk_create(Customer(email=f"c{i}@example.com", consent=Consent.GRANTED) for i in range(10))
    address_suppress(email="c4@example.com", reason="manual")
    rows = export("all", "meta")
    assert len(rows) == 1 + 9
    assert len({r[0] for r in rows[1:]}) == 9


def test_admin_export_downloads_the_csv(admin_client):
    customer("jane.doe@example.com", lifecycle_stage=LifecycleStage.AT_RISK)
    form = admin_client.get("/admin/customers/modelfit/export-audience/")
    assert form.status_code == 200 and "Download CSV" in form.content.decode()
    response = admin_client.post(
        "/admin/customers/modelfit/export-audience/", {"audience": "stage:at_risk", "platform": "meta"}
    )
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="audience-stageat_risk-meta.csv"'
    body = b"".join(response.streaming_content).decode()
    assert body.splitlines() == ["EMAIL,FN,LN,COUNTRY", f"{SHA_JANE_EXAMPLE},,,"]
