"""Shared admin building blocks."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records written only by the system: listed and viewed, never added or edited by hand.

    Set `allow_delete = True` where staff may clean rows up.
    """

    allow_delete = False
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return self.allow_delete and super().has_delete_permission(request, obj)
