"""Admin for messages and enrollments: read-only rows, with the two reconcile actions on messages."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from campaigns.admin.paginator import EstimatedCountPaginator
from campaigns.models import Enrollment, Message, MessageStatus
from campaigns.services.sending import message_mark_sent, message_requeue_unknown


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("id", "customer", "campaign", "step", "status", "attempts", "claimed_at", "sent_at", "error_short")
    list_filter = ("status", "is_test", "campaign__kind", "campaign", "created_at")
    search_fields = ("=customer__email", "=esp_message_id")
    list_select_related = ("customer", "campaign", "step__campaign")
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    raw_id_fields = ("customer", "enrollment", "step", "template_version")
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
    paginator = EstimatedCountPaginator

    def get_readonly_fields(self, request: HttpRequest, obj: Enrollment | None = None) -> list[str]:
        return [field.name for field in Enrollment._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Enrollment | None = None) -> bool:
        return False
