"""Existing data under the one message rule: the backfill numbers entries and stops second copies."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("campaigns", "0003_admin_dashboard_indexes")]
AFTER = [("campaigns", "0006_one_message_rule")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture(autouse=True)
def _latest_schema_afterwards():
    # Later tests need every migration applied again, not the schema this test stopped at.
    yield
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_backfill_numbers_entries_and_skips_the_queued_second_copies_of_a_one_off_send():
    old = migrate(BEFORE)
    try:
        Customer = old.get_model("customers", "Customer")
        Template = old.get_model("campaigns", "Template")
        Campaign = old.get_model("campaigns", "Campaign")
        Step = old.get_model("campaigns", "Step")
        Enrollment = old.get_model("campaigns", "Enrollment")
        Message = old.get_model("campaigns", "Message")
        ann, bob, cleo = (Customer.objects.create(email=f"{n}@example.test") for n in ("ann", "bob", "cleo"))
        template = Template.objects.create(name="T", subject="Hi", mjml="<mjml></mjml>", is_valid=True)
        # The data: a one-off with the old default trigger, sent now, then enrolled by the tick.
        news = Campaign.objects.create(name="News", kind="one_off", trigger="audience", status="active")
        news_step = Step.objects.create(campaign=news, position=1, template=template)
        for person in (ann, bob):
            Message.objects.create(customer=person, campaign=news, step=news_step, status="sent")
        copy = Enrollment.objects.create(campaign=news, customer=ann, status="active")
        second = Message.objects.create(customer=ann, campaign=news, step=news_step, enrollment=copy, status="queued")
        # A lifecycle campaign Cleo entered twice (re-entry after reentry_days).
        cart = Campaign.objects.create(name="Cart", kind="abandoned_cart", trigger="event", status="active")
        cart_step = Step.objects.create(campaign=cart, position=1, template=template)
        first_entry = Enrollment.objects.create(campaign=cart, customer=cleo, status="completed")
        Enrollment.objects.filter(pk=first_entry.pk).update(entered_at=first_entry.entered_at.replace(year=2020))
        again = Enrollment.objects.create(campaign=cart, customer=cleo, status="active")
        early = Message.objects.create(customer=cleo, campaign=cart, step=cart_step, enrollment=first_entry)
        late = Message.objects.create(customer=cleo, campaign=cart, step=cart_step, enrollment=again)
    finally:
        new = migrate(AFTER)

    Campaign = new.get_model("campaigns", "Campaign")
    Enrollment = new.get_model("campaigns", "Enrollment")
    Message = new.get_model("campaigns", "Message")
    assert Campaign.objects.get(pk=news.pk).trigger == "manual"
    second = Message.objects.get(pk=second.pk)
    assert (second.status, second.entry) == ("skipped", 2)
    assert second.error == "second copy of a one-off send: not sent"
    assert Enrollment.objects.get(pk=copy.pk).status == "exited"
    sent_now = Message.objects.filter(campaign_id=news.pk, enrollment__isnull=True)
    assert set(sent_now.values_list("entry", flat=True)) == {1}
    assert Enrollment.objects.get(pk=first_entry.pk).entry == 1
    assert Enrollment.objects.get(pk=again.pk).entry == 2
    assert Message.objects.get(pk=early.pk).entry == 1 and Message.objects.get(pk=late.pk).entry == 2
    with pytest.raises(IntegrityError), transaction.atomic():
        Message.objects.create(customer_id=cleo.pk, campaign_id=cart.pk, step_id=cart_step.pk, entry=2)
