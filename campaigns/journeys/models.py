"""Journey bookkeeping beside the campaign models: deferrals, coupons and attribution."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from campaigns.models import Campaign, Enrollment, Message, Step
from customers.models import Order


class Deferral(models.Model):
    """Why a step waited: one row per enrollment and step, updated each time it is pushed back."""

    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="deferrals")
    step = models.ForeignKey(Step, on_delete=models.CASCADE, related_name="deferrals")
    reason = models.CharField(max_length=64)
    first_deferred_at = models.DateTimeField(default=timezone.now)
    deferred_until = models.DateTimeField()
    times = models.PositiveIntegerField(default=1)
    outcome = models.CharField(max_length=16, blank=True, help_text="sent, expired or empty while waiting.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["enrollment", "step"], name="deferral_unique_enrollment_step")]
        indexes = [models.Index(fields=["outcome", "deferred_until"])]

    def __str__(self) -> str:
        return f"Deferral {self.pk} ({self.reason})"


class CouponCode(models.Model):
    """A coupon code, either imported into a named pool or generated for one message."""

    pool = models.CharField(max_length=64, blank=True, db_index=True, help_text="Empty for generated codes.")
    code = models.CharField(max_length=64, unique=True)
    message = models.OneToOneField(Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="coupon")
    assigned_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["pool", "assigned_at"], condition=Q(message__isnull=True), name="coupon_free")]

    def __str__(self) -> str:
        return self.code


class Attribution(models.Model):
    """An order credited to the last message the customer clicked (or opened) before it."""

    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="attribution")
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attributions")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="attributions")
    step = models.ForeignKey(Step, null=True, blank=True, on_delete=models.SET_NULL, related_name="attributions")
    revenue = models.DecimalField(max_digits=14, decimal_places=2)
    touched_at = models.DateTimeField()
    touch = models.CharField(max_length=8, help_text="click or open")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Order {self.order} credited to {self.message}"


class JourneyCampaign(Campaign):
    """Proxy for the journey admin: recipes and results beside the campaign editor."""

    class Meta:
        proxy = True
        verbose_name = "campaign results"
        verbose_name_plural = "campaign results"


class ABTest(models.Model):
    """A/B test of a step: its template (arm A) against variant templates, e.g. another subject line.

    The first `sample_size` messages are split evenly across the arms; later recipients wait.
    `decide_after` the start, the arm with the best human click rate wins and everyone who
    waited, and everyone after, gets the winner.
    """

    step = models.OneToOneField(Step, on_delete=models.CASCADE, related_name="ab_test")
    sample_size = models.PositiveIntegerField(default=1000)
    decide_after = models.DurationField(help_text="Time from the first test message to picking the winner.")
    started_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    winner = models.ForeignKey("campaigns.Template", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    results = models.JSONField(default=dict, blank=True, help_text="Sent, human clicks and rate per arm at decision.")

    class Meta:
        verbose_name = "A/B test"

    def __str__(self) -> str:
        return f"A/B test of {self.step}"


class ABVariant(models.Model):
    test = models.ForeignKey(ABTest, on_delete=models.CASCADE, related_name="variants")
    template = models.ForeignKey("campaigns.Template", on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["test", "template"], name="abvariant_unique_template")]

    def __str__(self) -> str:
        return self.template.name
