"""Admin for messages and enrollments: read-only rows, with the two reconcile actions on messages.

Rows read as sentences ("Win-back, step 2 to Ada Lovelace (Sent 3 Nov)") and link to the customer,
campaign and message they belong to.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from campaigns.admin.paginator import EstimatedCountPaginator
from campaigns.models import Enrollment, Message, MessageStatus, customer_label
from campaigns.services.sending import message_mark_sent, message_requeue_unknown


def _link(view: str, pk: int | None, text: str) -> str:
    if pk is None:
        return "—"
    return format_html('<a href="{}">{}</a>', reverse(f"admin:{view}", args=[pk]), text)


class LinkedRowsMixin:
    @admin.display(description="Customer", ordering="customer__email")
    def customer_link(self, obj: Message | Enrollment) -> str:
        return _link("customers_customer_change", obj.customer_id, customer_label(obj.customer))

    @admin.display(description="Campaign", ordering="campaign__name")
    def campaign_link(self, obj: Message | Enrollment) -> str:
        return _link("campaigns_campaign_change", obj.campaign_id, obj.campaign.name if obj.campaign_id else "")


@admin.register(Message)
class MessageAdmin(LinkedRowsMixin, admin.ModelAdmin):
    list_display = (
        "__str__",
        "customer_link",
        "campaign_link",
        "step_label",
        "status",
        "attempts",
        "sent_at",
        "error_short",
    )
    list_filter = ("status", "is_test", "campaign__kind", "campaign", "created_at")
    search_fields = ("=customer__email", "=esp_message_id")
    list_select_related = ("customer", "campaign", "step__campaign")
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    actions = ["requeue_unknown", "mark_sent"]

    def get_readonly_fields(self, request: HttpRequest, obj: Message | None = None) -> list[str]:
        return [field.name for field in Message._meta.fields]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Message]:
        return super().get_queryset(request).select_related("enrollment__customer", "enrollment__campaign")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Message | None = None) -> bool:
        return False

    @admin.display(description="Step", ordering="step__position")
    def step_label(self, obj: Message) -> str:
        return f"Step {obj.step.position}" if obj.step_id else "—"

    @admin.display(description="Why (error or skip reason)")
    def error_short(self, obj: Message) -> str:
        return obj.error[:80]

    @admin.action(description="Requeue selected unknown-outcome messages (may mail twice)", permissions=["change"])
    def requeue_unknown(self, request: HttpRequest, queryset: QuerySet[Message]) -> None:
        ids = list(queryset.filter(status=MessageStatus.UNKNOWN).values_list("pk", flat=True))
        done = message_requeue_unknown(message_ids=ids, actor=request.user.get_username())
        self.message_user(request, f"{done} unknown message(s) queued again; other statuses were left alone.")

    @admin.action(description="Mark selected unknown-outcome messages as sent", permissions=["change"])
    def mark_sent(self, request: HttpRequest, queryset: QuerySet[Message]) -> None:
        ids = list(queryset.filter(status=MessageStatus.UNKNOWN).values_list("pk", flat=True))
        done = message_mark_sent(message_ids=ids, actor=request.user.get_username())
        self.message_user(request, f"{done} unknown message(s) marked sent; other statuses were left alone.")


class EnrollmentMessages(admin.TabularInline):
    model = Message
    fields = ("message_link", "status", "sent_at", "error")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False
    verbose_name_plural = "Messages of this enrollment"

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Message]:
        return super().get_queryset(request).select_related("customer", "step__campaign", "campaign")

    @admin.display(description="Message")
    def message_link(self, obj: Message) -> str:
        return _link("campaigns_message_change", obj.pk, str(obj))


@admin.register(Enrollment)
class EnrollmentAdmin(LinkedRowsMixin, admin.ModelAdmin):
    list_display = (
        "__str__",
        "customer_link",
        "campaign_link",
        "status",
        "next_step_label",
        "due_at",
        "is_holdout",
        "exit_reason_words",
    )
    list_filter = ("status", "is_holdout", "campaign")
    search_fields = ("=customer__email",)
    list_select_related = ("campaign", "customer")
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    inlines = [EnrollmentMessages]

    class Media:
        css = {"all": ["campaigns/admin_dashboard.css"]}

    def get_readonly_fields(self, request: HttpRequest, obj: Enrollment | None = None) -> list[str]:
        return [field.name for field in Enrollment._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Enrollment | None = None) -> bool:
        return False

    @admin.display(description="Next step", ordering="next_step")
    def next_step_label(self, obj: Enrollment) -> str:
        return "—" if obj.status != "active" else f"Step {obj.next_step}"

    @admin.display(description="Why it ended")
    def exit_reason_words(self, obj: Enrollment) -> str:
        if obj.exit_reason.startswith("goal: "):
            return "Reached the goal: " + obj.exit_reason.removeprefix("goal: ").replace("_", " ")
        return obj.exit_reason.replace("_", " ") or "—"
