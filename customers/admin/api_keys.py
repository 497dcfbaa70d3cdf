"""Admin for event API keys (the secret is shown once, only its hash is stored) and received events."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from config.admin_base import ReadOnlyAdmin
from customers.models import ApiKey, IngestedEvent
from customers.services.events.api_keys import api_key_issue, api_key_revoke


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("name", "prefix", "created_at", "created_by", "last_used_at", "revoked_at", "is_active")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("name", "prefix")
    readonly_fields = ("prefix", "created_by", "created_at", "last_used_at", "revoked_at")
    actions = ("revoke",)
    list_select_related = ("created_by",)

    @admin.display(boolean=True, description="active")
    def is_active(self, obj: ApiKey) -> bool:
        return obj.is_active

    def get_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> tuple[str, ...]:
        return ("name",) if obj is None else ("name", *self.readonly_fields)

    def save_model(self, request: HttpRequest, obj: ApiKey, form, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        secret = api_key_issue(api_key=obj, created_by=request.user)
        messages.warning(
            request,
            f"API key for “{obj.name}”: {secret} — copy it now, it is shown only this once "
            "(only a hash is stored). Send it as: Authorization: Bearer <key>",
        )

    @admin.action(description="Revoke selected API keys")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        count = api_key_revoke(pks=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"{count} API key(s) revoked.", messages.SUCCESS)


@admin.register(IngestedEvent)
class IngestedEventAdmin(ReadOnlyAdmin):
    allow_delete = True

    """Events accepted by the API, kept so a retried batch never applies twice. Read-only."""

    list_display = ("event_id", "type", "api_key", "received_at")
    list_filter = ("type", "api_key")
    search_fields = ("event_id",)
    date_hierarchy = "received_at"
    list_select_related = ("api_key",)
