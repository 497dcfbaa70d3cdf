"""Email template admin: validation in the form, read-only versions, live preview, test sends."""

from __future__ import annotations

import logging

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme

from campaigns.models import Template, TemplateVersion
from campaigns.services.templates import template_check, template_save, template_send_test
from campaigns.templating.newlines import newlines_normalise
from campaigns.templating.preview import template_preview, version_preview
from campaigns.templating.samples import sample_customer
from campaigns.templating.variables import VARIABLES
from customers.models import Customer

logger = logging.getLogger(__name__)
RECENT_CUSTOMERS = 50


class TemplateAdminForm(forms.ModelForm):
    class Meta:
        model = Template
        fields = ("name", "purpose", "subject", "preheader", "mjml")
        widgets = {"mjml": forms.Textarea(attrs={"rows": 28, "class": "mjml-source", "spellcheck": "false"})}

    def clean(self) -> dict:
        data = super().clean()
        for name in ("subject", "preheader", "mjml"):
            if isinstance(data.get(name), str):
                data[name] = newlines_normalise(data[name])
        if all(name in data for name in ("subject", "mjml")):
            check = template_check(subject=data["subject"], preheader=data.get("preheader", ""), mjml=data["mjml"])
            for field_name, errors in check.errors_by_field().items():
                self.add_error(field_name, errors)
        return data


class TemplateVersionInline(admin.TabularInline):
    model = TemplateVersion
    # The author by name: a read-only foreign key would link to the user's page, which staff
    # without user rights (Marketing) are refused.
    fields = ("number", "subject", "created_at", "author")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = False
    ordering = ("-number",)

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description="created by")
    def author(self, obj: TemplateVersion) -> str:
        return obj.created_by.get_username() if obj.created_by else "—"


def _customer_from(request: HttpRequest, source: dict) -> Customer:
    raw = (source.get("customer") or "").strip()
    if raw.isdigit():
        customer = Customer.objects.filter(pk=int(raw)).first()
        if customer is not None:
            return customer
    return sample_customer(request.user)


@admin.register(Template)
class TemplateAdmin(admin.ModelAdmin):
    form = TemplateAdminForm
    inlines = [TemplateVersionInline]
    list_display = ("name", "purpose", "is_valid", "version_number", "updated_at")
    list_filter = ("purpose", "is_valid")
    search_fields = ("name", "subject")
    list_select_related = ("current_version",)
    change_form_template = "admin/campaigns/template/change_form.html"

    class Media:
        css = {"all": ["campaigns/template_preview.css"]}
        js = ["campaigns/template_preview.js"]

    @admin.display(description="current version")
    def version_number(self, obj: Template) -> str:
        return f"v{obj.current_version.number}" if obj.current_version else "—"

    def save_model(self, request: HttpRequest, obj: Template, form: forms.ModelForm, change: bool) -> None:
        version = template_save(template=obj, user=request.user)
        if version is not None:
            messages.info(request, f"“{obj.name}” is at version {version.number}.")

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("render/", wrap(self.render_view), name="campaigns_template_render"),
            path("<int:pk>/preview/", wrap(self.preview_view), name="campaigns_template_preview"),
            path("<int:pk>/send-test/", wrap(self.send_test_view), name="campaigns_template_send_test"),
            *super().get_urls(),
        ]

    def _preview_context(self, request: HttpRequest) -> dict:
        recent = Customer.objects.order_by("-id").only("id", "email", "first_name", "last_name")[:RECENT_CUSTOMERS]
        return {
            "recent_customers": recent,
            "selected_customer": (request.GET.get("customer") or "").strip(),
            "render_url": reverse("admin:campaigns_template_render"),
            "variables": sorted(VARIABLES.items()),
        }

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), **self._preview_context(request)}
        return super().changeform_view(request, object_id, form_url, extra_context)

    def render_view(self, request: HttpRequest) -> HttpResponse:
        """Live preview of the unsaved form: POST subject, preheader, mjml, customer → JSON."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        if request.method != "POST":
            return JsonResponse({"ok": False, "errors": [{"message": "POST required."}]}, status=405)
        result = template_preview(
            subject=request.POST.get("subject", ""),
            preheader=request.POST.get("preheader", ""),
            mjml=request.POST.get("mjml", ""),
            customer=_customer_from(request, request.POST),
        )
        return JsonResponse(result.as_json())

    def preview_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        template = get_object_or_404(Template.objects.select_related("current_version"), pk=pk)
        if not self.has_view_permission(request, template):
            raise PermissionDenied
        version = template.current_version
        email = version_preview(version=version, customer=_customer_from(request, request.GET)) if version else None
        context = {
            **self.admin_site.each_context(request),
            **self._preview_context(request),
            "opts": self.model._meta,
            "original": template,
            "title": f"Preview: {template.name}",
            "version": version,
            "email": email,
            "can_send_test": self.has_change_permission(request, template),
        }
        return TemplateResponse(request, "admin/campaigns/template/preview.html", context)

    @staticmethod
    def _send_test(request: HttpRequest, template: Template) -> None:
        customer = _customer_from(request, request.POST)
        try:
            address = template_send_test(
                template=template, user=request.user, customer=customer, address=request.POST.get("address", "")
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        except Exception as error:  # any ESP/backend failure is reported to the user, not a 500
            logger.warning("Test send of template %s failed: %s", template.pk, type(error).__name__)
            messages.error(request, f"The test email could not be sent: {error}")
        else:
            messages.success(request, f"Test email sent to {address}.")

    def send_test_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        template = get_object_or_404(Template.objects.select_related("current_version"), pk=pk)
        if not self.has_change_permission(request, template):
            raise PermissionDenied
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        self._send_test(request, template)
        back = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
            back = reverse("admin:campaigns_template_change", args=[template.pk])
        return HttpResponseRedirect(back)
