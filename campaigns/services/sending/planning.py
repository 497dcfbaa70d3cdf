"""Planning: Message rows exist, one per (campaign, customer), before anything is sent."""

from __future__ import annotations

import math

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet

from campaigns.models import Campaign, CampaignKind, CampaignStatus, Message, MessageStatus, Step
from campaigns.selectors.sending import HELD_CAMPAIGN_STATUSES
from customers.models import Customer
from customers.selectors import customers_mailable


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
    ignore_conflicts against the (campaign, customer) unique constraint, so planning again
    never duplicates. Returns how many new rows were queued.
    """
    step = campaign_first_step(campaign=campaign)
    version = step.template.current_version
    chunk = chunk_size or settings.SEND_PLAN_CHUNK
    base = customers_mailable(customer_ids_query if customer_ids_query is not None else Customer.objects.all())
    before = Message.objects.filter(campaign=campaign, enrollment__isnull=True, is_test=False).count()
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
                    template_version=version,
                    status=MessageStatus.QUEUED,
                )
                for customer_id in ids
            ],
            ignore_conflicts=True,
            batch_size=1000,
        )
        last_id = ids[-1]
    return Message.objects.filter(campaign=campaign, enrollment__isnull=True, is_test=False).count() - before


def campaign_send_now(*, campaign: Campaign, customer_ids_query: QuerySet[Customer] | None = None) -> int:
    """Plan a one-off campaign for every mailable customer and start sending when that commits."""
    from campaigns.tasks import send_due_messages

    if campaign.kind != CampaignKind.ONE_OFF:
        raise CampaignNotSendable("Only one-off campaigns are sent on demand; lifecycle campaigns run on schedule.")
    if campaign.status in HELD_CAMPAIGN_STATUSES:
        raise CampaignNotSendable(f"Campaign {campaign.pk} is {campaign.status}: resume it first.")
    with transaction.atomic():
        planned = message_plan_one_off(campaign=campaign, customer_ids_query=customer_ids_query)
        if campaign.status != CampaignStatus.ACTIVE:
            campaign.status = CampaignStatus.ACTIVE
            campaign.save(update_fields=["status", "updated_at"])
        tasks = min(settings.SEND_KICK_TASKS, max(1, math.ceil(planned / max(1, settings.SEND_BATCH_SIZE))))
        for _ in range(tasks):
            transaction.on_commit(send_due_messages.delay)
    return planned
