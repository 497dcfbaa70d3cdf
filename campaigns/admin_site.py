"""The admin site: Django's, with the marketing dashboard as its landing page (the index)."""

from __future__ import annotations

from django.contrib.admin import AdminSite
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest
from django.template.response import TemplateResponse


class MarketingAdminSite(AdminSite):
    site_header = "Remarketing admin"
    site_title = "Remarketing admin"
    index_title = "Dashboard"
    index_template = "admin/campaigns/dashboard.html"

    def index(self, request: HttpRequest, extra_context: dict | None = None) -> TemplateResponse:
        from campaigns.admin.dashboard import dashboard_context

        return super().index(request, {**dashboard_context(request), **(extra_context or {})})


class MarketingAdminConfig(AdminConfig):
    default_site = "campaigns.admin_site.MarketingAdminSite"
