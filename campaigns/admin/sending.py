"""Admin for campaigns, their messages and enrollments. Actions call the sending services."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest

from campaigns.models import Campaign, CampaignKind, Enrollment, Message, MessageStatus, Step
from campaigns.services.sending import (
    CampaignNotSendable,
    campaign_send_now,
    message_mark_sent,
    message_requeue_unknown,
)


class StepInline(admin.TabularInline):
    model = Step
    extra = 0
    fields = ("position", "template", "delay", "delay_from")
    ordering = ("position",)


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "status", "segment", "messages_sent", "messages_queued", "messages_unknown")
    list_filter = ("kind", "status")
    search_fields = ("name",)
    list_select_related = ("segment",)
    inlines = [StepInline]
    actions = ["send_now"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Campaign]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_sent=Count("messages", filter=Q(messages__status=MessageStatus.SENT)),
                n_queued=Count("messages", filter=Q(messages__status=MessageStatus.QUEUED)),
                n_unknown=Count("messages", filter=Q(messages__status=MessageStatus.UNKNOWN)),
            )
        )

    @admin.display(description="sent", ordering="n_sent")
    def messages_sent(self, obj: Campaign) -> int:
        return obj.n_sent

    @admin.display(description="queued", ordering="n_queued")
    def messages_queued(self, obj: Campaign) -> int:
        return obj.n_queued

    @admin.display(description="unknown outcome", ordering="n_unknown")
    def messages_unknown(self, obj: Campaign) -> int:
        return obj.n_unknown

    @admin.action(description="Send now to all mailable customers (one-off campaigns)", permissions=["change"])
    def send_now(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        for campaign in queryset:
            if campaign.kind != CampaignKind.ONE_OFF:
                self.message_user(request, f"{campaign}: only one-off campaigns are sent on demand.", messages.WARNING)
                continue
            try:
                planned = campaign_send_now(campaign=campaign)
            except CampaignNotSendable as exc:
                self.message_user(request, f"{campaign}: {exc}", messages.ERROR)
                continue
            self.message_user(request, f"{campaign}: {planned} message(s) queued; sending has started.")


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("id", "customer", "campaign", "step", "status", "attempts", "claimed_at", "sent_at", "error_short")
    list_filter = ("status", "is_test", "campaign__kind", "campaign")
    search_fields = ("=customer__email", "=esp_message_id")
    list_select_related = ("customer", "campaign", "step")
    date_hierarchy = "created_at"
    show_full_result_count = False
    actions = ["requeue_unknown", "mark_sent"]

    def get_readonly_fields(self, request: HttpRequest, obj: Message | None = None) -> list[str]:
        return [field.name for field in Message._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Message | None = None) -> bool:
        return False

    @admin.display(description="error")
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


@admin.register(Enrollment)
class EnrollmentAdmin(admin.ModelAdmin):
    list_display = ("id", "campaign", "customer", "status", "next_step", "due_at", "entered_at", "is_holdout")
    list_filter = ("status", "is_holdout", "campaign")
    search_fields = ("=customer__email",)
    list_select_related = ("campaign", "customer")
    show_full_result_count = False

    def get_readonly_fields(self, request: HttpRequest, obj: Enrollment | None = None) -> list[str]:
        return [field.name for field in Enrollment._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Enrollment | None = None) -> bool:
        return False
