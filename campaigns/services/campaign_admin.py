"""What staff do to a campaign: activate, pause, resume, archive, duplicate. Each writes an audit entry.

The audit trail is Django's admin LogEntry (shown as the campaign's "History"), written here
rather than in the admin so every caller leaves the same record.
"""

from __future__ import annotations

from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction

from campaigns.journeys.rules import validate_rules
from campaigns.journeys.selectors.engagement import condition_errors
from campaigns.journeys.services.offers import offer_errors
from campaigns.models import (
    Campaign,
    CampaignKind,
    CampaignStatus,
    Message,
    MessageStatus,
    Step,
    Trigger,
    trigger_kind_error,
)
from campaigns.services.sending import CampaignNotSendable, campaign_send_now
from campaigns.services.templates import template_assert_usable


class CampaignActionError(ValidationError):
    """The action is not possible for this campaign; the messages say why, in staff's words."""


def _audit(*, user: AbstractBaseUser, campaign: Campaign, message: str, flag: int = CHANGE) -> None:
    LogEntry.objects.log_actions(
        user_id=user.pk, queryset=[campaign], action_flag=flag, change_message=message, single_object=True
    )


def _locked(campaign: Campaign) -> Campaign:
    return Campaign.objects.select_for_update().get(pk=campaign.pk)


def campaign_activation_errors(*, campaign: Campaign) -> list[str]:
    """Everything that stops `campaign` from running, as sentences staff can act on (empty: ready)."""
    errors: list[str] = []
    if kind_error := trigger_kind_error(kind=campaign.kind, trigger=campaign.trigger):
        errors.append(kind_error)
    if campaign.kind != CampaignKind.ONE_OFF and campaign.trigger == Trigger.AUDIENCE and campaign.segment_id is None:
        errors.append("Choose a segment: the campaign enrolls people entering its audience.")
    if campaign.trigger == Trigger.EVENT and not campaign.trigger_event:
        errors.append("Choose the trigger event: the campaign starts when that event happens.")
    if campaign.segment_id is not None:
        errors += [f"Segment “{campaign.segment.name}”: {e}" for e in validate_rules(campaign.segment.rules)]
    steps = list(campaign.steps.select_related("template__current_version").order_by("position"))
    if not steps:
        errors.append("Add at least one step with an email template.")
    for step in steps:
        try:
            template_assert_usable(step.template)
        except ValidationError as error:
            errors += [f"Step {step.position}: {text}" for text in error.messages]
        errors += [f"Step {step.position}: {text}" for text in condition_errors(step.condition)]
        errors += [f"Step {step.position}: {text}" for text in offer_errors(step.offer)]
    return errors


@transaction.atomic
def campaign_activate(*, campaign: Campaign, user: AbstractBaseUser) -> Campaign:
    """Draft or paused -> active, after checking it can run. Raises CampaignActionError with every problem."""
    campaign = _locked(campaign)
    if campaign.status == CampaignStatus.ACTIVE:
        raise CampaignActionError(f"“{campaign}” is already active.")
    if campaign.status == CampaignStatus.ARCHIVED:
        raise CampaignActionError(f"“{campaign}” is archived; duplicate it to run it again.")
    errors = campaign_activation_errors(campaign=campaign)
    if errors:
        raise CampaignActionError(errors)
    was = campaign.get_status_display()
    campaign.status = CampaignStatus.ACTIVE
    campaign.save(update_fields=["status", "updated_at"])
    _audit(user=user, campaign=campaign, message=f"Activated (was {was}).")
    _kick_sending()
    return campaign


@transaction.atomic
def campaign_pause(*, campaign: Campaign, user: AbstractBaseUser) -> Campaign:
    """Active -> paused. Queued messages are held (not claimed); enrollments keep their position."""
    campaign = _locked(campaign)
    if campaign.status != CampaignStatus.ACTIVE:
        raise CampaignActionError(f"Only an active campaign can be paused; “{campaign}” is {campaign.status}.")
    campaign.status = CampaignStatus.PAUSED
    campaign.save(update_fields=["status", "updated_at"])
    held = Message.objects.filter(campaign=campaign, status=MessageStatus.QUEUED).count()
    _audit(user=user, campaign=campaign, message=f"Paused ({held} queued message(s) held).")
    return campaign


@transaction.atomic
def campaign_resume(*, campaign: Campaign, user: AbstractBaseUser) -> Campaign:
    """Paused -> active, continuing where it stopped: held messages go out, enrollments move on from
    their current step. Nothing is planned again, so nobody is mailed twice."""
    campaign = _locked(campaign)
    if campaign.status != CampaignStatus.PAUSED:
        raise CampaignActionError(f"Only a paused campaign can be resumed; “{campaign}” is {campaign.status}.")
    errors = campaign_activation_errors(campaign=campaign)
    if errors:
        raise CampaignActionError(errors)
    campaign.status = CampaignStatus.ACTIVE
    campaign.save(update_fields=["status", "updated_at"])
    held = Message.objects.filter(campaign=campaign, status=MessageStatus.QUEUED).count()
    _audit(user=user, campaign=campaign, message=f"Resumed ({held} held message(s) released).")
    _kick_sending()
    return campaign


@transaction.atomic
def campaign_archive(*, campaign: Campaign, user: AbstractBaseUser) -> Campaign:
    """Stop for good: no enrolment, no advancing, queued messages are never claimed."""
    campaign = _locked(campaign)
    if campaign.status == CampaignStatus.ARCHIVED:
        raise CampaignActionError(f"“{campaign}” is already archived.")
    was = campaign.get_status_display()
    campaign.status = CampaignStatus.ARCHIVED
    campaign.save(update_fields=["status", "updated_at"])
    _audit(user=user, campaign=campaign, message=f"Archived (was {was}).")
    return campaign


def campaign_send_now_by_staff(*, campaign: Campaign, user: AbstractBaseUser, everyone: bool = False) -> int:
    """ "Send now" from the admin: to the campaign's segment, or to everyone only when `everyone`
    was confirmed. Returns how many messages were queued; raises CampaignActionError."""
    try:
        planned = campaign_send_now(campaign=campaign, everyone=everyone)
    except CampaignNotSendable as exc:
        raise CampaignActionError(str(exc)) from exc
    audience = f"segment “{campaign.segment}”" if campaign.segment_id else "every mailable customer (confirmed)"
    _audit(user=user, campaign=campaign, message=f"Sent now to {audience}: {planned} message(s) queued.")
    return planned


def _copy_name(name: str) -> str:
    limit = Campaign._meta.get_field("name").max_length
    base = f"{name} (copy)"
    candidate, n = base, 2
    while Campaign.objects.filter(name=candidate[:limit]).exists():
        candidate, n = f"{name} (copy {n})", n + 1
    return candidate[:limit]


@transaction.atomic
def campaign_duplicate(*, campaign: Campaign, user: AbstractBaseUser) -> Campaign:
    """A draft copy with the same settings and steps (not its enrollments or messages)."""
    source = Campaign.objects.get(pk=campaign.pk)
    steps = list(source.steps.order_by("position"))
    copy = Campaign.objects.get(pk=source.pk)
    copy.pk = None
    copy.name = _copy_name(source.name)
    copy.status = CampaignStatus.DRAFT
    copy.save()
    Step.objects.bulk_create(
        Step(
            campaign=copy,
            position=step.position,
            template_id=step.template_id,
            delay=step.delay,
            delay_from=step.delay_from,
            condition=step.condition,
            offer=step.offer,
        )
        for step in steps
    )
    _audit(user=user, campaign=copy, message=f"Duplicated from “{source}” (id {source.pk}).", flag=ADDITION)
    _audit(user=user, campaign=source, message=f"Duplicated as “{copy}” (id {copy.pk}).")
    return copy


def _kick_sending() -> None:
    """Start a send task once the status change commits, so released messages go out at once."""
    from campaigns.tasks import send_due_messages

    transaction.on_commit(send_due_messages.delay)
