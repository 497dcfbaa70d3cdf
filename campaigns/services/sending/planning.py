"""Planning: Message rows exist, one per (campaign, customer, step, entry), before anything is sent."""

from __future__ import annotations

import math

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet

from campaigns.journeys.rules import RuleError
from campaigns.models import Campaign, CampaignKind, CampaignStatus, Message, MessageStatus, Step
from campaigns.selectors.sending import HELD_CAMPAIGN_STATUSES, campaign_send_audience
from customers.models import Customer
from customers.selectors import customers_mailable

# "Send now" writes the first entry of the first step: the same key the journeys tick would
# use for a customer's first enrollment, so the database refuses any second copy.
ONE_OFF_ENTRY = 1


class CampaignNotSendable(ValueError):
    """The campaign cannot be sent as asked (wrong kind, held, no usable template)."""


def campaign_first_step(*, campaign: Campaign) -> Step:
    step = campaign.steps.select_related("template__current_version").order_by("position").first()
    if step is None:
        raise CampaignNotSendable(f"Campaign {campaign.pk} has no step.")
    if step.template.current_version is None or not step.template.is_valid:
        raise CampaignNotSendable(f"The template of campaign {campaign.pk} has no valid saved version.")
    return step


def message_plan_one_off(
    *, campaign: Campaign, customer_ids_query: QuerySet[Customer] | None = None, chunk_size: int | None = None
) -> int:
    """Queue one message per mailable customer of `customer_ids_query` (all customers by default).

    Customers are paged by key, so memory stays flat at any list size; rows are inserted with
    ignore_conflicts against the (campaign, customer, step, entry) unique constraint, so
    planning again never duplicates. Returns how many new rows were queued.
    """
    step = campaign_first_step(campaign=campaign)
    version = step.template.current_version
    chunk = chunk_size or settings.SEND_PLAN_CHUNK
    base = customers_mailable(customer_ids_query if customer_ids_query is not None else Customer.objects.all())
    planned = Message.objects.filter(campaign=campaign, step=step, entry=ONE_OFF_ENTRY, is_test=False)
    before = planned.count()
    last_id = 0
    while True:
        ids = list(base.filter(pk__gt=last_id).order_by("pk").values_list("pk", flat=True)[:chunk])
        if not ids:
            break
        Message.objects.bulk_create(
            [
                Message(
                    customer_id=customer_id,
                    campaign=campaign,
                    step=step,
                    entry=ONE_OFF_ENTRY,
                    template_version=version,
                    status=MessageStatus.QUEUED,
                )
                for customer_id in ids
            ],
            ignore_conflicts=True,
            batch_size=1000,
        )
        last_id = ids[-1]
    return planned.count() - before


def campaign_send_now(*, campaign: Campaign, everyone: bool = False) -> int:
    """Plan a one-off campaign for its segment's mailable customers and start sending when that
    commits. A campaign without a segment goes to every mailable customer only when staff
    confirmed exactly that (`everyone=True`); otherwise it is refused."""
    from campaigns.tasks import send_due_messages

    if campaign.kind != CampaignKind.ONE_OFF:
        raise CampaignNotSendable("Only one-off campaigns are sent on demand; lifecycle campaigns run on schedule.")
    if campaign.status in HELD_CAMPAIGN_STATUSES:
        raise CampaignNotSendable(f"“{campaign}” is {campaign.get_status_display().lower()}: resume it first.")
    if campaign.segment_id is None and not everyone:
        raise CampaignNotSendable(
            f"“{campaign}” has no segment. Choose a segment, or confirm that it goes to every mailable customer."
        )
    try:
        audience = campaign_send_audience(campaign=campaign)
    except RuleError as exc:
        raise CampaignNotSendable(f"Segment “{campaign.segment}” cannot be evaluated: {exc}") from exc
    with transaction.atomic():
        planned = message_plan_one_off(campaign=campaign, customer_ids_query=audience)
        if campaign.status != CampaignStatus.ACTIVE:
            campaign.status = CampaignStatus.ACTIVE
            campaign.save(update_fields=["status", "updated_at"])
        tasks = min(settings.SEND_KICK_TASKS, max(1, math.ceil(planned / max(1, settings.SEND_BATCH_SIZE))))
        for _ in range(tasks):
            transaction.on_commit(send_due_messages.delay)
    return planned
