"""Templates, segments, campaigns with their steps, enrollments and messages."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from customers.models import Customer


class Template(models.Model):
    """An editable email template; every saved change becomes a new TemplateVersion."""

    name = models.CharField(max_length=150, unique=True)
    purpose = models.CharField(max_length=32, blank=True, help_text="Which lifecycle campaign it is written for.")
    subject = models.CharField(max_length=255)
    preheader = models.CharField(max_length=255, blank=True)
    mjml = models.TextField(help_text="MJML with Django template language for personalisation.")
    is_valid = models.BooleanField(default=False)
    validation_errors = models.TextField(blank=True)
    current_version = models.ForeignKey(
        "TemplateVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name


class TemplateVersion(models.Model):
    """Immutable snapshot of a template; MJML is compiled once per version."""

    template = models.ForeignKey(Template, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    subject = models.CharField(max_length=255)
    preheader = models.CharField(max_length=255, blank=True)
    mjml = models.TextField()
    compiled_html = models.TextField(help_text="MJML compiled to HTML, still holding template tags.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["template", "number"], name="templateversion_unique_number")]
        ordering = ["template", "-number"]

    def __str__(self) -> str:
        return f"{self.template.name} v{self.number}"


class Segment(models.Model):
    """A saved audience: rules over customer fields and metrics, evaluated as SQL."""

    name = models.CharField(max_length=150, unique=True)
    description = models.TextField(blank=True)
    rules = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name


class CampaignKind(models.TextChoices):
    ABANDONED_CART = "abandoned_cart", "Abandoned cart"
    UPSELL_TRIAL = "upsell_trial", "Upsell trial"
    CROSS_SELL = "cross_sell", "Cross-sell"
    LOYALTY = "loyalty", "Loyalty"
    WIN_BACK = "win_back", "Win-back"
    ONE_OFF = "one_off", "One-off send"


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    ARCHIVED = "archived", "Archived"


class Trigger(models.TextChoices):
    AUDIENCE = "audience", "Entering the audience"
    EVENT = "event", "An event"
    MANUAL = "manual", "Sent by staff"


# How each kind of campaign may start: a one-off send goes out when staff send it (never
# through the journeys tick); lifecycle campaigns enrol people themselves.
LIFECYCLE_TRIGGERS = (Trigger.AUDIENCE, Trigger.EVENT)


def triggers_for_kind(kind: str) -> tuple[Trigger, ...]:
    return (Trigger.MANUAL,) if kind == CampaignKind.ONE_OFF else LIFECYCLE_TRIGGERS


def trigger_kind_error(*, kind: str, trigger: str) -> str:
    """Why this kind cannot have this trigger, in staff's words ('' when they fit)."""
    if not kind or trigger in triggers_for_kind(kind):
        return ""
    if kind == CampaignKind.ONE_OFF:
        return "A one-off send goes out when staff press “Send now”: its trigger is “Sent by staff”."
    return (
        f"A {CampaignKind(kind).label.lower()} campaign enrols people by itself: "
        "choose “Entering the audience” or “An event”."
    )


class Campaign(models.Model):
    name = models.CharField(max_length=150)
    kind = models.CharField(max_length=32, choices=CampaignKind.choices)
    status = models.CharField(
        max_length=16, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT, db_index=True
    )
    segment = models.ForeignKey(Segment, null=True, blank=True, on_delete=models.PROTECT, related_name="campaigns")
    trigger = models.CharField(max_length=16, choices=Trigger.choices, default=Trigger.AUDIENCE)
    trigger_event = models.CharField(max_length=32, blank=True)
    trigger_delay = models.DurationField(default=timedelta)
    exit_on = models.JSONField(
        default=list, blank=True, help_text="Goal events that end the journey, e.g. ['order_placed']."
    )
    priority = models.PositiveSmallIntegerField(default=50, help_text="Higher wins the frequency cap.")
    reentry_days = models.PositiveIntegerField(default=30)
    holdout_percent = models.PositiveSmallIntegerField(default=10)
    is_transactional = models.BooleanField(default=False, help_text="Exempt from sunset (e.g. cart reminders).")
    recipe = models.CharField(max_length=32, blank=True, editable=False, help_text="The recipe it was created from.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="one_off") | Q(trigger="manual"), name="campaign_one_off_sent_by_staff"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        # A one-off send has exactly one trigger, so every path that creates one (admin, recipes,
        # scripts) agrees with the database's rule without having to name it.
        if self.kind == CampaignKind.ONE_OFF:
            self.trigger = Trigger.MANUAL
            # "Send now" mails the whole audience; a holdout would be reported but never held out.
            self.holdout_percent = 0
        super().save(*args, **kwargs)

    def clean(self) -> None:
        if error := trigger_kind_error(kind=self.kind, trigger=self.trigger):
            raise ValidationError({"trigger": error})


class DelayFrom(models.TextChoices):
    ENTRY = "entry", "From entry"
    PREVIOUS = "previous", "From the previous step"


class Step(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField()
    template = models.ForeignKey(Template, on_delete=models.PROTECT, related_name="steps")
    delay = models.DurationField(default=timedelta)
    delay_from = models.CharField(max_length=16, choices=DelayFrom.choices, default=DelayFrom.PREVIOUS)
    condition = models.JSONField(default=dict, blank=True)
    offer = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["campaign", "position"]
        constraints = [models.UniqueConstraint(fields=["campaign", "position"], name="step_unique_position")]

    def __str__(self) -> str:
        return f"{self.campaign.name}, step {self.position}"


class EnrollmentStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    COMPLETED = "completed", "Completed"
    EXITED = "exited", "Exited"


class Enrollment(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="enrollments")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="enrollments")
    entry = models.PositiveIntegerField(
        default=1, help_text="Which time this customer entered the campaign (re-entry after reentry_days adds one)."
    )
    status = models.CharField(max_length=16, choices=EnrollmentStatus.choices, default=EnrollmentStatus.ACTIVE)
    entered_at = models.DateTimeField(default=timezone.now)
    next_step = models.PositiveSmallIntegerField(default=1)
    due_at = models.DateTimeField(null=True, blank=True)
    is_holdout = models.BooleanField(default=False)
    exit_reason = models.CharField(max_length=64, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "due_at"]),
            models.Index(fields=["campaign", "customer", "entered_at"]),
        ]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "customer", "entry"], name="enrollment_unique_entry"),
            models.UniqueConstraint(
                fields=["campaign", "customer"], condition=Q(status="active"), name="enrollment_one_active"
            ),
        ]

    def __str__(self) -> str:
        """Ada Lovelace in Win-back (entered 3 Nov)."""
        entered = timezone.localtime(self.entered_at)
        return f"{customer_label(self.customer)} in {self.campaign.name} (entered {entered.day} {entered:%b})"


class MessageStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    SUPPRESSED = "suppressed", "Suppressed"
    SKIPPED = "skipped", "Skipped"
    UNKNOWN = "unknown", "Unknown outcome"


class Message(models.Model):
    """One email to one customer. Exists before anything is sent; the DB refuses duplicates.

    A campaign's messages are keyed by (campaign, customer, step, entry), whichever path made
    them: the journeys tick writes its enrollment's entry, "send now" writes entry 1 of the
    first step.
    """

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="messages")
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.CASCADE, related_name="messages")
    step = models.ForeignKey(Step, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages")
    enrollment = models.ForeignKey(Enrollment, null=True, blank=True, on_delete=models.CASCADE, related_name="messages")
    entry = models.PositiveIntegerField(
        default=1, help_text="The customer's entry into the campaign this message belongs to (a one-off send is 1)."
    )
    template_version = models.ForeignKey(TemplateVersion, null=True, blank=True, on_delete=models.PROTECT)
    status = models.CharField(max_length=16, choices=MessageStatus.choices, default=MessageStatus.QUEUED)
    is_test = models.BooleanField(default=False)
    subject = models.CharField(max_length=255, blank=True, help_text="As rendered when sent.")
    esp_message_id = models.CharField(max_length=128, blank=True, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    not_before = models.DateTimeField(null=True, blank=True, help_text="Retry / deferral: not claimed before this.")
    claimed_at = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True, help_text="Which claim (worker batch) owns the row.")
    esp_checked_at = models.DateTimeField(null=True, blank=True, help_text="When the ESP was asked about an unknown.")
    esp_not_found_at = models.DateTimeField(
        null=True, blank=True, help_text="When the ESP first said it has no such message; a later lookup must agree."
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    context = models.JSONField(default=dict, blank=True, help_text="Per-message data: offer code, cart items…")

    class Meta:
        indexes = [
            models.Index(fields=["status", "not_before", "id"]),
            models.Index(fields=["campaign", "status"]),
            models.Index(fields=["customer", "sent_at"]),
            # The admin dashboard (mail sent in the last N days) and the live progress rate per campaign.
            models.Index(fields=["sent_at"], condition=Q(sent_at__isnull=False), name="message_sent_at"),
            models.Index(fields=["campaign", "sent_at"], name="message_campaign_sent_at"),
            models.Index(fields=["id"], condition=Q(status="queued"), name="message_queued_id"),
            models.Index(
                fields=["claimed_at"], condition=Q(status__in=["sending", "unknown"]), name="message_in_doubt_claimed"
            ),
        ]
        constraints = [
            # One rule for every path (journeys tick, "send now", a retry): one campaign, one
            # customer, one message per step and entry.
            models.UniqueConstraint(
                fields=["campaign", "customer", "step", "entry"],
                condition=Q(is_test=False),
                name="message_unique_campaign_customer_step_entry",
            ),
        ]

    def __str__(self) -> str:
        """Win-back, step 2 to Ada Lovelace (Sent 3 Nov)."""
        what = str(self.step) if self.step_id else (self.campaign.name if self.campaign_id else "Test email")
        moment = self.sent_at or self.created_at
        when = f" {timezone.localtime(moment).day} {timezone.localtime(moment):%b}" if moment else ""
        return f"{what} to {customer_label(self.customer)} ({self.get_status_display()}{when})"


def customer_label(customer: Customer) -> str:
    """The customer's name, else their address."""
    return customer.full_name or customer.email
