"""Shop data: customers, products, orders and on-site activity.

Customer also carries the computed metrics (RFM, lifecycle, predictions,
engagement) so that segments can filter on them in SQL.
"""

from __future__ import annotations

import os
from decimal import Decimal

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.utils import timezone as dj_timezone


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


class EmailStatus(models.TextChoices):
    SUBSCRIBED = "subscribed", "Subscribed"
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
    BOUNCED = "bounced", "Bounced"
    COMPLAINED = "complained", "Complained"


class Consent(models.TextChoices):
    UNKNOWN = "unknown", "Unknown"
    GRANTED = "granted", "Granted"
    DENIED = "denied", "Denied"


class LifecycleStage(models.TextChoices):
    LEAD = "lead", "Lead (no order)"
    NEW = "new", "New customer"
    ACTIVE = "active", "Active"
    AT_RISK = "at_risk", "At risk"
    LAPSED = "lapsed", "Lapsed"
    CHURNED = "churned", "Churned"


class RfmSegment(models.TextChoices):
    CHAMPIONS = "champions", "Champions"
    LOYAL = "loyal", "Loyal"
    POTENTIAL_LOYALISTS = "potential_loyalists", "Potential loyalists"
    NEW = "new", "New"
    AT_RISK = "at_risk", "At risk"
    CANT_LOSE = "cant_lose", "Can't lose"
    HIBERNATING = "hibernating", "Hibernating"
    LOST = "lost", "Lost"


class Tier(models.TextChoices):
    BASE = "base", "Base"
    PREMIUM = "premium", "Premium"


class Customer(models.Model):
    email = models.EmailField(max_length=254, unique=True, help_text="Stored lower-cased and trimmed.")
    external_id = models.CharField(max_length=128, null=True, blank=True, unique=True)
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    timezone = models.CharField(max_length=64, blank=True, default="", help_text="IANA name, e.g. Europe/Berlin")
    locale = models.CharField(max_length=16, blank=True, default="")
    tier = models.CharField(max_length=16, choices=Tier.choices, default=Tier.BASE)

    consent = models.CharField(max_length=16, choices=Consent.choices, default=Consent.UNKNOWN, db_index=True)
    consent_source = models.CharField(max_length=64, blank=True, default="")
    consent_at = models.DateTimeField(null=True, blank=True)
    email_status = models.CharField(
        max_length=16, choices=EmailStatus.choices, default=EmailStatus.SUBSCRIBED, db_index=True
    )

    created_at = models.DateTimeField(default=dj_timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    # --- computed metrics (filled by the metrics job and the event pipeline) ---
    orders_count = models.PositiveIntegerField(default=0, db_index=True)
    total_spent = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    average_order_value = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    first_order_at = models.DateTimeField(null=True, blank=True)
    last_order_at = models.DateTimeField(null=True, blank=True, db_index=True)
    mean_days_between_orders = models.FloatField(null=True, blank=True)
    recency_score = models.PositiveSmallIntegerField(null=True, blank=True)
    frequency_score = models.PositiveSmallIntegerField(null=True, blank=True)
    monetary_score = models.PositiveSmallIntegerField(null=True, blank=True)
    rfm_segment = models.CharField(max_length=32, choices=RfmSegment.choices, blank=True, default="", db_index=True)
    lifecycle_stage = models.CharField(
        max_length=16, choices=LifecycleStage.choices, default=LifecycleStage.LEAD, db_index=True
    )
    churn_risk = models.FloatField(null=True, blank=True, help_text="1 - P(alive)")
    p_alive = models.FloatField(null=True, blank=True)
    expected_purchases_90d = models.FloatField(null=True, blank=True)
    expected_order_value = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    predicted_value = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    engagement_score = models.FloatField(default=0.0, db_index=True)
    last_engaged_at = models.DateTimeField(null=True, blank=True, db_index=True)
    metrics_computed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["lifecycle_stage", "email_status"]),
        ]
        # Jobs beyond add/change/delete/view; customers/roles.py says which group gets which.
        permissions = [
            ("import_customers", "Can import customers from CSV"),
            ("export_audience", "Can export ad audiences (hashed contact lists)"),
            ("erase_customer", "Can erase a customer (GDPR), audited"),
            ("export_personal_data", "Can export a customer's personal data (GDPR), audited"),
        ]

    def __str__(self) -> str:
        return self.email

    def save(self, *args, **kwargs) -> None:
        self.email = normalise_email(self.email)
        if self.external_id == "":
            self.external_id = None
        super().save(*args, **kwargs)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def is_lead(self) -> bool:
        return self.orders_count == 0

    @property
    def is_mailable(self) -> bool:
        """Status and consent policy, as every audience reads them (customers.selectors.customers_mailable)."""
        from customers.selectors import customers_mailable

        return self.pk is not None and customers_mailable(Customer.objects.filter(pk=self.pk)).exists()


class ConsentChange(models.Model):
    """Proof of every consent / subscription change: who, when, how."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="consent_changes")
    field = models.CharField(max_length=16, choices=[("consent", "consent"), ("email_status", "email status")])
    old_value = models.CharField(max_length=16, blank=True)
    new_value = models.CharField(max_length=16)
    source = models.CharField(max_length=64, help_text="import, api, admin, unsubscribe_link, one_click, webhook…")
    actor = models.CharField(max_length=150, blank=True, help_text="Staff username, API key name or 'recipient'.")
    detail = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=dj_timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]


class SuppressedAddress(models.Model):
    """Addresses never to be mailed, kept as a SHA-256 hash (survives GDPR erasure)."""

    email_hash = models.CharField(max_length=64, unique=True)
    reason = models.CharField(max_length=32)
    created_at = models.DateTimeField(default=dj_timezone.now)

    class Meta:
        verbose_name_plural = "suppressed addresses"


class Product(models.Model):
    sku = models.CharField(max_length=128, unique=True)
    name = models.CharField(max_length=255)
    category = models.CharField(max_length=128, blank=True, db_index=True)
    price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, default="EUR")
    url = models.URLField(max_length=500, blank=True)
    image_url = models.URLField(max_length=500, blank=True)
    tier = models.CharField(max_length=16, choices=Tier.choices, default=Tier.BASE)
    is_active = models.BooleanField(default=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.sku})"


class Order(models.Model):
    external_id = models.CharField(max_length=128, unique=True, help_text="The shop's order id.")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="orders")
    placed_at = models.DateTimeField()
    total = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3, default="EUR")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["customer", "placed_at"]), models.Index(fields=["placed_at"])]
        permissions = [("import_orders", "Can import orders from CSV")]

    def __str__(self) -> str:
        return self.external_id


class OrderItem(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(Product, on_delete=models.SET_NULL, null=True, blank=True, related_name="order_items")
    sku = models.CharField(max_length=128, blank=True)
    product_name = models.CharField(max_length=255, blank=True)
    category = models.CharField(max_length=128, blank=True)
    quantity = models.PositiveIntegerField(default=1)
    unit_price = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["order", "sku"], name="orderitem_unique_sku_per_order")]

    @property
    def line_total(self) -> Decimal:
        return self.unit_price * self.quantity


class ActivityType(models.TextChoices):
    CART_UPDATED = "cart_updated", "Cart updated"
    CHECKOUT_STARTED = "checkout_started", "Checkout started"
    PRODUCT_VIEWED = "product_viewed", "Product viewed"
    TRIAL_STARTED = "trial_started", "Trial started"
    TRIAL_CONVERTED = "trial_converted", "Trial converted"


class Activity(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="activities")
    type = models.CharField(max_length=32, choices=ActivityType.choices)
    product = models.ForeignKey(Product, on_delete=models.SET_NULL, null=True, blank=True)
    occurred_at = models.DateTimeField(default=dj_timezone.now)
    properties = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name_plural = "activities"
        indexes = [
            models.Index(fields=["type", "occurred_at"]),
            models.Index(fields=["customer", "type", "occurred_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_type_display()} on {self.occurred_at:%Y-%m-%d %H:%M}"


class ApiKey(models.Model):
    """Bearer key for the event API. Only a SHA-256 of the secret is stored."""

    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, unique=True, help_text="Public part shown to identify the key.")
    key_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=dj_timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class IngestedEvent(models.Model):
    """One row per client event id accepted by the API: a retried batch never duplicates."""

    event_id = models.CharField(max_length=128, unique=True)
    type = models.CharField(max_length=32)
    api_key = models.ForeignKey(ApiKey, null=True, on_delete=models.SET_NULL)
    received_at = models.DateTimeField(default=dj_timezone.now)
    result = models.JSONField(default=dict, blank=True)


class ModelFitKind(models.TextChoices):
    BG_NBD = "bg_nbd", "BG/NBD (purchase frequency and dropout)"
    GAMMA_GAMMA = "gamma_gamma", "Gamma-Gamma (order value)"


class ModelFit(models.Model):
    """Parameters of a predictive model fitted by the nightly metrics job, kept for audit and display."""

    kind = models.CharField(max_length=16, choices=ModelFitKind.choices, db_index=True)
    params = models.JSONField(default=dict, blank=True)
    log_likelihood = models.FloatField(null=True, blank=True)
    n_customers = models.PositiveIntegerField(default=0, help_text="Customers the model was fitted on.")
    converged = models.BooleanField(default=False)
    note = models.CharField(max_length=255, blank=True, help_text="Why the fit was skipped or how it ended.")
    as_of = models.DateTimeField(help_text="Only orders placed before this moment were used.")
    fitted_at = models.DateTimeField(default=dj_timezone.now, db_index=True)
    is_backtest = models.BooleanField(
        "back-test",
        default=False,
        db_index=True,
        help_text="Fitted by a back-test (compute_customer_metrics --as-of): kept to compare, never used live.",
    )

    class Meta:
        ordering = ["-fitted_at"]
        get_latest_by = "fitted_at"

    def __str__(self) -> str:
        suffix = " (back-test)" if self.is_backtest else ""
        return f"{self.get_kind_display()} as of {self.as_of:%Y-%m-%d}{suffix}"


class _ImportStorage(FileSystemStorage):
    """settings.IMPORT_UPLOAD_DIR, read on use. The web process writes the upload and the
    worker reads it: both must see this directory."""

    @property
    def base_location(self) -> str:
        return str(settings.IMPORT_UPLOAD_DIR)

    @property
    def location(self) -> str:
        return os.path.abspath(self.base_location)


def _import_storage() -> FileSystemStorage:
    return _ImportStorage()


class ImportKind(models.TextChoices):
    CUSTOMERS = "customers", "Customers"
    ORDERS = "orders", "Orders"


class ImportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    REFUSED = "refused", "Refused"  # the file as a whole could not be imported (e.g. a column named twice)
    FAILED = "failed", "Failed"  # the job stopped on an unexpected error


class ImportJob(models.Model):
    """A CSV uploaded in the admin, imported in the background by the worker."""

    kind = models.CharField(max_length=16, choices=ImportKind.choices)
    status = models.CharField(max_length=16, choices=ImportStatus.choices, default=ImportStatus.QUEUED)
    file = models.FileField(storage=_import_storage, upload_to="%Y/%m/", max_length=255, blank=True)
    source_name = models.CharField(max_length=100, blank=True, help_text="The uploaded file's name.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    created_at = models.DateTimeField(default=dj_timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    rows_expected = models.PositiveIntegerField(default=0, help_text="Lines in the file, less the header.")
    rows_done = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict, blank=True, help_text="Every counter of the import report.")
    summary = models.CharField(max_length=500, blank=True)
    error = models.TextField(blank=True, help_text="Why the file was refused or the job stopped.")

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} import {self.pk} ({self.source_name})"

    @property
    def is_finished(self) -> bool:
        return self.status in {ImportStatus.DONE, ImportStatus.REFUSED, ImportStatus.FAILED}

    @property
    def percent(self) -> int:
        if self.status == ImportStatus.DONE:
            return 100
        if not self.rows_expected:
            return 0
        return min(99, self.rows_done * 100 // self.rows_expected)


class ImportFailure(models.Model):
    """A row an import could not take: its line, why, and the row as it stood in the file."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="failures")
    line = models.PositiveIntegerField()
    reason = models.CharField(max_length=500)
    row = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["job", "line"])]
