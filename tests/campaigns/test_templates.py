"""Email templates: validation with line numbers, versioning, escaping, text part, starters."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from campaigns.models import Template, TemplateVersion
from campaigns.rendering import message_render
from campaigns.services.templates import starter_templates_load, template_assert_usable, template_save
from campaigns.templating.context import popular_products_cache_clear
from campaigns.templating.starters import starter_templates
from customers.models import Customer, Order, OrderItem, Product

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_best_sellers():
    popular_products_cache_clear()  # best sellers are cached per process; each test has its own shop


FOOTER = '<mj-text><a href="{{ unsubscribe_url }}">Unsubscribe</a> {{ shop.postal_address }}</mj-text>'


def body(inner: str) -> str:
    return (
        "<mjml>\n<mj-body>\n<mj-section>\n<mj-column>\n"
        f"{inner}\n{FOOTER}\n"
        "</mj-column>\n</mj-section>\n</mj-body>\n</mjml>\n"
    )


def new_template(mjml: str, *, subject: str = "Hello {{ first_name }}", name: str = "T") -> Template:
    return Template(name=name, subject=subject, preheader="News from {{ shop.name }}", mjml=mjml)


def test_valid_template_gets_first_version():
    template = new_template(body("<mj-text>Hi {{ customer.first_name|default:'there' }}</mj-text>"))
    version = template_save(template=template, user=None)
    template.refresh_from_db()
    assert template.is_valid and template.validation_errors == ""
    assert version is not None and version.number == 1 and template.current_version == version
    assert "<table" in version.compiled_html and "{{ customer.first_name" in version.compiled_html
    assert template_assert_usable(template) == version


def test_mjml_error_is_reported_with_its_line():
    template = new_template(body("<mj-text>Hi</mj-column>"))
    assert template_save(template=template, user=None) is None
    template.refresh_from_db()
    assert not template.is_valid
    assert "line 5: </mj-column> does not match <mj-text>" in template.validation_errors
    assert template.current_version is None
    with pytest.raises(ValidationError, match="has errors"):
        template_assert_usable(template)


def test_unknown_mjml_element_is_reported_with_its_line():
    template = new_template(body("<mj-txt>Hi</mj-txt>"))
    template_save(template=template, user=None)
    assert "line 5: Unknown MJML element <mj-txt>" in template.validation_errors


def test_template_syntax_error_is_reported_with_its_line():
    template = new_template(body("<mj-text>{% if customer.first_name %}Hi</mj-text>"))
    template_save(template=template, user=None)
    assert not template.is_valid
    assert "mjml: line 5: Template syntax error" in template.validation_errors


def test_unknown_variables_are_reported_with_their_lines():
    mjml = body("<mj-text>{{ coupon_code }}</mj-text>\n<mj-text>{{ customer.password }}</mj-text>")
    template = new_template(mjml, subject="Hi {{ firstname }}")
    template_save(template=template, user=None)
    errors = template.validation_errors.splitlines()
    assert "mjml: line 5: Unknown variable 'coupon_code'." in errors
    assert "mjml: line 6: Unknown variable 'customer.password'." in errors
    assert "subject: line 1: Unknown variable 'firstname'." in errors


def test_loop_variables_are_known_inside_the_loop_only():
    inside = "<mj-text>{% for p in recommended_products %}{{ p.name }}{% endfor %}</mj-text>"
    template = new_template(body(inside + "\n<mj-text>{{ p.name }}</mj-text>"))
    template_save(template=template, user=None)
    assert template.validation_errors == "mjml: line 6: Unknown variable 'p.name'."


def test_body_without_unsubscribe_link_is_refused():
    mjml = "<mjml><mj-body><mj-section><mj-column><mj-text>Hi</mj-text></mj-column></mj-section></mj-body></mjml>"
    template = new_template(mjml)
    template_save(template=template, user=None)
    assert "unsubscribe_url" in template.validation_errors


def test_editing_creates_a_new_version_and_leaves_the_old_one_alone():
    template = new_template(body("<mj-text>First text</mj-text>"))
    v1 = template_save(template=template, user=None)
    template.mjml = body("<mj-text>Second text</mj-text>")
    template.subject = "New subject"
    v2 = template_save(template=template, user=None)
    v1.refresh_from_db()
    assert (v1.number, v2.number) == (1, 2)
    assert "First text" in v1.compiled_html and v1.subject == "Hello {{ first_name }}"
    assert "Second text" in v2.compiled_html and v2.subject == "New subject"
    template.refresh_from_db()
    assert template.current_version == v2
    # Saving without a change adds no version; an invalid edit keeps v2 current.
    assert template_save(template=template, user=None) == v2
    template.mjml = body("<mj-text>{{ nope }}</mj-text>")
    assert template_save(template=template, user=None) is None
    template.refresh_from_db()
    assert template.current_version == v2 and TemplateVersion.objects.filter(template=template).count() == 2


def test_customer_data_is_escaped_in_html_but_not_in_subject():
    template = new_template(body("<mj-text>Hi {{ customer.first_name }}</mj-text>"))
    version = template_save(template=template, user=None)
    hostile = Customer.objects.create(email="x@example.test", first_name='<script>alert("x")</script>')
    email = message_render(version=version, customer=hostile)
    assert "<script>alert" not in email.html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in email.html
    assert email.subject == 'Hello <script>alert("x")</script>'


def test_plain_text_part_keeps_links_readable():
    mjml = body(
        '<mj-text>Hi {{ first_name }}</mj-text>\n<mj-button href="{{ shop.url }}/new">See what is new</mj-button>'
    )
    version = template_save(template=new_template(mjml), user=None)
    email = message_render(version=version, customer=Customer.objects.create(email="t@example.test", first_name="Ann"))
    assert "Hi Ann" in email.text
    assert "[See what is new](https://shop.example/new)" in email.text
    assert "Unsubscribe" in email.text and "<" not in email.text.replace("<br", "")
    assert email.preheader == "News from Demo Shop"
    assert "News from Demo Shop" in email.html  # the hidden inbox preview line


def test_extra_context_is_merged():
    mjml = body("<mj-text>Code {{ offer.code }}: {% for item in cart.items %}{{ item.name }};{% endfor %}</mj-text>")
    version = template_save(template=new_template(mjml), user=None)
    extra = {"offer": {"code": "SAVE10"}, "cart": {"items": [{"name": "Tea"}, {"name": "Cup"}]}}
    email = message_render(version=version, customer=Customer.objects.create(email="e@example.test"), extra=extra)
    assert "Code SAVE10: Tea;Cup;" in email.html


@pytest.fixture
def customer_with_orders():
    customer = Customer.objects.create(
        email="buyer@example.test", first_name="Bea", orders_count=2, last_order_at=timezone.now()
    )
    tea = Product.objects.create(sku="TEA", name="Green tea", category="tea", price=Decimal("9.50"))
    Product.objects.create(sku="OOLONG", name="Oolong", category="tea", price=Decimal("12.00"))
    Product.objects.create(sku="MUG", name="Mug", category="kitchen", price=Decimal("15.00"))
    first = Order.objects.create(
        external_id="A-1", customer=customer, placed_at=timezone.now() - timedelta(days=90), total=Decimal("9.50")
    )
    OrderItem.objects.create(order=first, product=tea, sku="TEA", product_name="Green tea", category="tea")
    last = Order.objects.create(external_id="A-2", customer=customer, placed_at=timezone.now(), total=Decimal("19"))
    OrderItem.objects.create(order=last, product=tea, sku="TEA", quantity=2, unit_price=Decimal("9.50"))
    return customer


def test_starter_templates_are_valid_and_render_for_a_lead_and_a_customer(customer_with_orders):
    created, skipped = starter_templates_load()
    assert len(created) == len(starter_templates()) >= 11 and skipped == []
    lead = Customer.objects.create(email="lead@example.test")
    extra = {
        "offer": {"code": "BACK15", "description": "15% off"},
        "cart": {"items": [{"name": "Green tea", "quantity": 1, "unit_price": "9.50"}], "total": "9.50"},
    }
    for template in Template.objects.all():
        assert template.is_valid, template.validation_errors
        for customer in (lead, customer_with_orders):
            email = message_render(version=template.current_version, customer=customer, extra=extra)
            assert email.subject and "{{" not in email.html and "{%" not in email.html
            assert "Demo Shop Ltd, 1 Example Street" in email.html and "Unsubscribe" in email.text
    cross_sell = Template.objects.get(purpose="cross_sell").current_version
    email = message_render(version=cross_sell, customer=customer_with_orders)
    assert "Since you liked Green tea" in email.html and "Oolong" in email.html
    thanks = Template.objects.get(purpose="order_thank_you").current_version
    assert "order A-2" in message_render(version=thanks, customer=customer_with_orders).text


def test_loading_starters_twice_never_overwrites_staff_edits():
    call_command("load_starter_templates")
    edited = Template.objects.get(purpose="loyalty")
    edited.subject = "Our own subject"
    template_save(template=edited, user=None)
    created, skipped = starter_templates_load()
    assert created == [] and len(skipped) == len(starter_templates())
    edited.refresh_from_db()
    assert edited.subject == "Our own subject" and edited.current_version.number == 2


def test_text_part_falls_back_to_the_final_html_when_tags_do_not_survive_conversion():
    # Half of the {% if %} sits in an image attribute, which the text conversion drops.
    mjml = body(
        '<mj-text><img src="https://shop.example/logo.png" alt="{% if first_name %}" />Hi there{% endif %}</mj-text>'
    )
    version = template_save(template=new_template(mjml), user=None)
    email = message_render(version=version, customer=Customer.objects.create(email="f@example.test", first_name="F"))
    assert "Hi there" in email.text and "{%" not in email.text


def test_message_render_for_a_real_message_uses_its_signed_unsubscribe_link(customer_with_orders):
    from campaigns.models import Message
    from tracking.unsubscribe_links import unsubscribe_url

    version = template_save(template=new_template(body("<mj-text>Hi</mj-text>")), user=None)
    message = Message.objects.create(customer=customer_with_orders, template_version=version)
    email = message_render(version=version, customer=customer_with_orders, message_id=message.pk)
    link = unsubscribe_url(message.pk)
    assert link in email.html and f"[Unsubscribe]({link})" in email.text
    assert "#unsubscribe-preview" not in email.html


def test_context_is_lazy_and_batch_prefetch_matches_it(
    customer_with_orders, django_assert_num_queries, django_assert_max_num_queries
):
    from campaigns.templating.prefetch import recipients_context_prefetch

    lead = Customer.objects.create(email="lead@example.test", first_name="Lee")
    plain = template_save(template=new_template(body("<mj-text>Hi {{ first_name }}</mj-text>")), user=None)
    with django_assert_num_queries(0):  # nothing from the database is used: nothing is loaded
        message_render(version=plain, customer=customer_with_orders)
    uses_data = (
        "<mj-text>{{ last_order.external_id }}: {% for p in recommended_products %}{{ p.sku }} {% endfor %}</mj-text>"
    )
    version = template_save(template=new_template(body(uses_data), name="data"), user=None)
    lazy = {c.pk: message_render(version=version, customer=c).html for c in (customer_with_orders, lead)}
    assert "A-2: OOLONG MUG" in lazy[customer_with_orders.pk]
    customers = [customer_with_orders, lead]
    with django_assert_max_num_queries(6):  # a fixed number for the batch, whatever its size
        extras = recipients_context_prefetch(version=version, customers=customers)
    with django_assert_num_queries(0):
        batch = {c.pk: message_render(version=version, customer=c, extra=extras[c.pk]).html for c in customers}
    assert batch == lazy


def test_turning_escaping_off_is_refused():
    mjml = body(
        "<mj-text>{{ customer.first_name|safe }}</mj-text>\n<mj-text>{% autoescape off %}x{% endautoescape %}</mj-text>"
    )
    template = new_template(mjml)
    template_save(template=template, user=None)
    assert "mjml: line 5: '|safe' is not allowed" in template.validation_errors
    assert "mjml: line 6: '{% autoescape off %}' is not allowed" in template.validation_errors


def test_best_sellers_load_on_first_use_even_just_after_boot(customer_with_orders, monkeypatch):
    # time.monotonic() counts from boot: on a machine up for less than the cache's lifetime a
    # never-filled cache must still count as stale, or every recommendation comes out empty.
    import time

    from campaigns.templating.context import popular_products

    since_boot = [5.0]
    monkeypatch.setattr(time, "monotonic", lambda: since_boot[0])
    assert popular_products.cache.timer() == 5.0, "the cache must read the clock this test sets"
    assert [p["sku"] for p in popular_products()][:1] == ["TEA"]

    # MUG becomes the best seller; the figures loaded at boot stand for the cache's lifetime, then refresh.
    mug = Product.objects.get(sku="MUG")
    for n in range(3):
        order = Order.objects.create(
            external_id=f"M-{n}", customer=customer_with_orders, placed_at=timezone.now(), total=Decimal("15")
        )
        OrderItem.objects.create(order=order, product=mug, sku="MUG", product_name="Mug", category="kitchen")
    since_boot[0] = 5.0 + 599
    assert [p["sku"] for p in popular_products()][:1] == ["TEA"]
    since_boot[0] = 5.0 + 601
    assert [p["sku"] for p in popular_products()][:1] == ["MUG"]
