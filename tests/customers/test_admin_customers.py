import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from customers.models import Activity, ActivityType, ConsentChange, Customer, EmailStatus, ImportJob, Order, Product
from customers.roles import MARKETING_GROUP
from customers.tasks import import_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser():
    return User.objects.create_superuser("boss", "boss@shop.example", "pw")


@pytest.fixture
def marketer():
    user = User.objects.create_user("mia", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=MARKETING_GROUP))
    return user


@pytest.fixture
def customer():
    return Customer.objects.create(email="ann@example.com", external_id="c1", first_name="Ann")


def test_only_staff_reach_the_admin(client, customer):
    url = reverse("admin:customers_customer_changelist")
    assert client.get(url).status_code == 302

    client.force_login(User.objects.create_user("shopper", password="pw"))
    response = client.get(url)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_marketing_can_view_but_not_change_a_customer(client, marketer, customer):
    client.force_login(marketer)
    change_url = reverse("admin:customers_customer_change", args=[customer.pk])

    assert client.get(reverse("admin:customers_customer_changelist")).status_code == 200
    page = client.get(change_url)
    assert page.status_code == 200 and b"ann@example.com" in page.content

    response = client.post(change_url, {"email_status": EmailStatus.UNSUBSCRIBED, "consent": "denied"})
    assert response.status_code == 403
    customer.refresh_from_db()
    assert customer.email_status == EmailStatus.SUBSCRIBED
    # Importing a list is a marketer's job; importing orders (shop data) is not.
    assert client.get(reverse("admin:customers_customer_import_csv")).status_code == 200
    assert client.get(reverse("admin:customers_order_import_csv")).status_code == 403


def test_customer_search_by_email_name_and_external_id(client, superuser, customer):
    Customer.objects.create(email="bob@example.com", external_id="c2", first_name="Bob")
    client.force_login(superuser)
    url = reverse("admin:customers_customer_changelist")

    for term in ("ann@example", "Ann", "c1"):
        content = client.get(url, {"q": term}).content
        assert b"ann@example.com" in content and b"bob@example.com" not in content


def test_change_page_renders_capped_inlines(client, superuser, customer, django_assert_max_num_queries):
    product = Product.objects.create(sku="s1", name="Shirt")
    placed = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    Order.objects.bulk_create(
        Order(external_id=f"o{i}", customer=customer, placed_at=placed + dt.timedelta(days=i), total=Decimal("1"))
        for i in range(60)
    )
    Activity.objects.bulk_create(
        Activity(customer=customer, type=ActivityType.PRODUCT_VIEWED, product=product) for _ in range(80)
    )
    client.force_login(superuser)

    with django_assert_max_num_queries(40):
        response = client.get(reverse("admin:customers_customer_change", args=[customer.pk]))

    assert response.status_code == 200
    html = response.content.decode()
    assert "o59" in html and "o10" not in html  # newest 20 orders only
    assert "Latest 20 orders" in html and "Latest 30 activities" in html
    assert "Metrics" in html and "All history" in html

    other = Customer.objects.create(email="other@example.com")
    Order.objects.create(external_id="x1", customer=other, placed_at=placed, total=Decimal("1"))
    all_orders = client.get(reverse("admin:customers_order_changelist"), {"customer__id__exact": customer.pk})
    assert all_orders.status_code == 200
    assert b"o10" in all_orders.content and b"x1" not in all_orders.content
    all_activity = client.get(reverse("admin:customers_activity_changelist"), {"customer__id__exact": customer.pk})
    assert all_activity.status_code == 200


def submitted_form(page, **changes) -> dict:
    """The POST a browser sends for this change page, read-only inlines included."""
    form = {"email_status": EmailStatus.SUBSCRIBED, "consent": "unknown", **changes}
    for inline in page.context["inline_admin_formsets"]:
        formset = inline.formset
        form[f"{formset.prefix}-TOTAL_FORMS"] = formset.total_form_count()
        form[f"{formset.prefix}-INITIAL_FORMS"] = formset.initial_form_count()
        for sub in formset.forms:
            form[sub.add_prefix("id")] = sub.instance.pk
            form[sub.add_prefix(formset.fk.name)] = formset.instance.pk
    return form


def test_staff_status_change_through_admin_leaves_proof(client, superuser, customer):
    Order.objects.create(external_id="o1", customer=customer, placed_at="2024-01-01T00:00Z", total=Decimal("5"))
    client.force_login(superuser)
    url = reverse("admin:customers_customer_change", args=[customer.pk])

    response = client.post(
        url, submitted_form(client.get(url), email_status=EmailStatus.UNSUBSCRIBED, consent="denied")
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    customer.refresh_from_db()
    assert (customer.email_status, customer.consent) == (EmailStatus.UNSUBSCRIBED, "denied")
    sources = set(ConsentChange.objects.filter(customer=customer).values_list("field", "source", "actor"))
    assert sources == {("email_status", "admin", "boss"), ("consent", "admin", "boss")}
    assert Order.objects.filter(customer=customer).count() == 1


def upload_and_run(client, url: str, name: str, content: bytes, capture):
    """Upload as the browser does; the request only queues the job, then run it as the worker would."""
    with capture(execute=False) as queued:
        response = client.post(url, {"file": SimpleUploadedFile(name, content)})
    if response.status_code != 302:
        return response
    job = ImportJob.objects.get(pk=int(response["Location"].rstrip("/").rsplit("/", 1)[-1]))
    assert job.status == "queued" and len(queued) == 1  # nothing imported in the request
    assert job.file.storage.exists(job.file.name)
    import_run(job.pk)
    assert not job.file.storage.exists(job.file.name)  # the upload is deleted once imported
    return client.get(response["Location"])


def test_admin_import_shows_row_errors_and_imports_good_rows(
    client, superuser, django_capture_on_commit_callbacks, settings, tmp_path
):
    settings.IMPORT_UPLOAD_DIR = tmp_path
    client.force_login(superuser)
    csv = b"email,first_name,timezone\ngood@example.com,Gus,Europe/Paris\nbroken,Bad,\nfay@example.com,Fay,Nowhere/Land"

    page = upload_and_run(
        client,
        reverse("admin:customers_customer_import_csv"),
        "people.csv",
        csv,
        django_capture_on_commit_callbacks,
    )

    assert page.status_code == 200
    html = page.content.decode()
    assert "<td>3</td><td>email is not a valid email address</td>" in html
    assert "Nowhere/Land" in html and "<td>4</td>" in html
    assert "3 rows: created 1, updated 0, failed 2" in html
    assert list(Customer.objects.values_list("email", flat=True)) == ["good@example.com"]


def test_admin_order_import_and_missing_column(
    client, superuser, settings, django_capture_on_commit_callbacks, tmp_path
):
    settings.IMPORT_UPLOAD_DIR = tmp_path
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0  # uploads spooled to disk, as large files are
    client.force_login(superuser)
    url = reverse("admin:customers_order_import_csv")
    good = b"order_id,email,placed_at,total\no1,a@example.com,2024-01-01,12.50\n"

    done = upload_and_run(client, url, "o.csv", good, django_capture_on_commit_callbacks)
    assert b'id="count-created">1<' in done.content
    missing = upload_and_run(
        client, url, "o.csv", b"order_id,email\no2,a@example.com\n", django_capture_on_commit_callbacks
    )
    assert missing.status_code == 200 and b"missing required column(s): placed_at, total" in missing.content
    assert Customer.objects.get().total_spent == Decimal("12.50")
    assert list(Order.objects.values_list("external_id", flat=True)) == ["o1"]
    assert ImportJob.objects.count() == 1  # a refused file queues nothing


def test_changelists_show_import_button_to_superuser_only(client, superuser, marketer):
    client.force_login(superuser)
    assert b"Import CSV" in client.get(reverse("admin:customers_order_changelist")).content
    client.force_login(marketer)
    page = client.get(reverse("admin:customers_order_changelist"))
    assert page.status_code == 200 and b"Import CSV" not in page.content
