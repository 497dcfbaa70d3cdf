"""The template admin: form errors, preview page, live preview endpoint and test sends."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User
from django.core import mail
from django.urls import reverse

from campaigns.models import Template
from campaigns.services.templates import template_save
from customers.models import Customer

pytestmark = pytest.mark.django_db

MJML = (
    "<mjml>\n<mj-body>\n<mj-section>\n<mj-column>\n"
    "<mj-text>Hello {{ customer.first_name|default:'there' }}, code {{ offer.code }}</mj-text>\n"
    '<mj-text><a href="{{ unsubscribe_url }}">Unsubscribe</a></mj-text>\n'
    "</mj-column>\n</mj-section>\n</mj-body>\n</mjml>\n"
)


def staff_with(*codenames: str, email: str = "staff@shop.example") -> User:
    user = User.objects.create_user("staff-" + "-".join(codenames), email=email, password="pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="campaigns", codename__in=codenames))
    return user


@pytest.fixture
def template() -> Template:
    template = Template(name="Welcome", subject="Hi {{ first_name }}", preheader="A gift inside", mjml=MJML)
    template_save(template=template, user=None)
    return template


def test_preview_page_renders_for_staff_with_view_permission(client, template):
    customer = Customer.objects.create(email="ann@example.test", first_name="Ann")
    client.force_login(staff_with("view_template"))
    response = client.get(reverse("admin:campaigns_template_preview", args=[template.pk]), {"customer": customer.pk})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Hi Ann" in page and "A gift inside" in page  # subject and preheader
    assert 'width="640"' in page and 'width="375"' in page  # desktop and mobile iframes
    assert "Hello Ann, code SAMPLE10" in page  # srcdoc holds the rendered email (HTML-escaped)
    assert "Send a test" not in page  # no change permission: no test-send button


def test_preview_page_is_closed_to_non_staff_and_to_staff_without_permission(client, template):
    url = reverse("admin:campaigns_template_preview", args=[template.pk])
    assert client.get(url).status_code == 302  # anonymous: to the login page
    client.force_login(User.objects.create_user("shopper", password="pw"))
    response = client.get(url)
    assert response.status_code == 302 and reverse("admin:login") in response["Location"]
    client.force_login(staff_with("view_customer"))
    assert client.get(url).status_code == 403


def test_change_form_shows_errors_next_to_fields_with_lines(client, template):
    client.force_login(User.objects.create_superuser("admin", "admin@shop.example", "pw"))
    url = reverse("admin:campaigns_template_change", args=[template.pk])
    response = client.post(
        url,
        {
            "name": "Welcome",
            "purpose": "",
            "subject": "Hi {{ frist_name }}",
            "preheader": "",
            "mjml": MJML.replace("</mj-text>\n<mj-text>", "</mj-column>\n<mj-text>", 1),
            "versions-TOTAL_FORMS": "0",
            "versions-INITIAL_FORMS": "1",
        },
    )
    assert response.status_code == 200  # the form comes back with errors
    errors = response.context["adminform"].form.errors
    assert errors["subject"] == ["line 1: Unknown variable 'frist_name'."]
    assert any(e.startswith("line 5: </mj-column> does not match <mj-text>") for e in errors["mjml"])
    template.refresh_from_db()
    assert template.subject == "Hi {{ first_name }}" and template.current_version.number == 1


def test_saving_in_admin_creates_a_version_and_lists_it(client, template):
    admin_user = User.objects.create_superuser("admin", "admin@shop.example", "pw")
    client.force_login(admin_user)
    url = reverse("admin:campaigns_template_change", args=[template.pk])
    data = {"name": "Welcome", "purpose": "", "subject": "New {{ first_name }}", "preheader": "", "mjml": MJML}
    data.update({"versions-TOTAL_FORMS": "0", "versions-INITIAL_FORMS": "1"})
    assert client.post(url, data).status_code == 302
    template.refresh_from_db()
    assert template.current_version.number == 2 and template.current_version.created_by == admin_user
    page = client.get(url).content.decode()
    assert "template-live-preview" in page and "campaigns/template_preview.js" in page


def test_send_test_delivers_to_the_staff_users_own_address(client, template, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    customer = Customer.objects.create(email="bob@example.test", first_name="Bob")
    client.force_login(staff_with("view_template", "change_template", email="me@shop.example"))
    url = reverse("admin:campaigns_template_send_test", args=[template.pk])
    response = client.post(url, {"customer": customer.pk}, follow=True)
    assert [m.message for m in response.context["messages"]] == ["Test email sent to me@shop.example."]
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["me@shop.example"] and sent.subject == "[TEST] Hi Bob"
    assert "Hello Bob" in sent.body and "Hello Bob" in sent.alternatives[0][0]


def test_send_test_needs_change_permission(client, template, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    client.force_login(staff_with("view_template"))
    assert client.post(reverse("admin:campaigns_template_send_test", args=[template.pk])).status_code == 403
    assert mail.outbox == []


def test_live_preview_endpoint_renders_unsaved_mjml(client):
    client.force_login(staff_with("view_template"))
    customer = Customer.objects.create(email="cy@example.test", first_name="<b>Cy</b>")
    data = {"subject": "For {{ first_name }}", "preheader": "pre", "mjml": MJML, "customer": customer.pk}
    response = client.post(reverse("admin:campaigns_template_render"), data)
    body = response.json()
    assert body["ok"] and body["errors"] == []
    assert body["subject"] == "For <b>Cy</b>"
    assert "Hello &lt;b&gt;Cy&lt;/b&gt;, code SAMPLE10" in body["html"]
    assert "Unsubscribe" in body["text"]


def test_live_preview_endpoint_reports_bad_mjml_with_lines(client):
    client.force_login(staff_with("view_template"))
    bad = MJML.replace("<mj-column>", "<mj-colum>", 1)
    response = client.post(reverse("admin:campaigns_template_render"), {"subject": "s", "mjml": bad})
    body = response.json()
    assert body["ok"] is False and "html" not in body
    assert {"field": "mjml", "line": 4, "message": "line 4: Unknown MJML element <mj-colum>."} in body["errors"]


def test_live_preview_endpoint_requires_csrf_and_permission(template):
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(staff_with("view_template"))
    response = csrf_client.post(reverse("admin:campaigns_template_render"), {"subject": "s", "mjml": MJML})
    assert response.status_code == 403
    other = Client()
    other.force_login(staff_with("view_customer"))
    assert other.post(reverse("admin:campaigns_template_render"), {"mjml": MJML}).status_code == 403


def test_add_and_list_pages_render(client, template):
    client.force_login(User.objects.create_superuser("admin", "admin@shop.example", "pw"))
    add_page = client.get(reverse("admin:campaigns_template_add"))
    assert add_page.status_code == 200 and "template-live-preview" in add_page.content.decode()
    listing = client.get(reverse("admin:campaigns_template_changelist")).content.decode()
    assert "Welcome" in listing and "v1" in listing
