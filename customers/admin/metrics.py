"""Customer intelligence in admin: fitted models, the metrics dashboard, recompute and audience export.

The extra pages hang off the ModelFit admin (…/customers/modelfit/dashboard/ and …/export-audience/),
so they need no project URL wiring and inherit the admin's login and CSRF protection.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.text import slugify
from django.views.decorators.http import require_POST

from config.admin_base import ReadOnlyAdmin
from customers.formatting import number
from customers.metrics.audiences import FORMATS, AudienceError, audience_csv_lines, audience_customers
from customers.metrics.dashboard import metrics_overview
from customers.models import LifecycleStage, ModelFit, RfmSegment
from customers.selectors import consent_policy_summary

EXPORT_AUDIENCE_PERMISSION = "customers.export_audience"
RECOMPUTE_PERMISSION = "customers.change_customer"


def _audience_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    from campaigns.models import Segment

    saved = [(name, name) for name in Segment.objects.order_by("name").values_list("name", flat=True)]
    return [
        ("Everyone", [("all", "All customers")]),
        ("Lifecycle stage", [(f"stage:{v}", label) for v, label in LifecycleStage.choices]),
        ("RFM segment", [(f"rfm:{v}", label) for v, label in RfmSegment.choices]),
        ("Saved segments", saved),
    ]


class AudienceExportForm(forms.Form):
    audience = forms.ChoiceField()
    platform = forms.ChoiceField(choices=[("meta", "Meta (customer list)"), ("google", "Google Ads Customer Match")])

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["audience"].choices = _audience_choices()


@admin.register(ModelFit)
class ModelFitAdmin(ReadOnlyAdmin):
    allow_delete = True

    list_display = (
        "kind", "as_of", "fitted_at", "is_backtest", "customers", "converged", "parameters", "fit_quality", "note"
    )  # fmt: skip
    list_filter = ("kind", "converged", "is_backtest")
    date_hierarchy = "fitted_at"
    readonly_fields = [f.name for f in ModelFit._meta.fields]
    change_list_template = "admin/customers/metrics/modelfit_change_list.html"

    @admin.display(description="Parameters")
    def parameters(self, obj: ModelFit) -> str:
        return ", ".join(f"{k} = {v:.4g}" for k, v in obj.params.items()) or "—"

    @admin.display(description="Customers", ordering="n_customers")
    def customers(self, obj: ModelFit) -> str:
        return number(obj.n_customers)

    @admin.display(description="Log-likelihood", ordering="log_likelihood")
    def fit_quality(self, obj: ModelFit) -> str:
        return number(obj.log_likelihood, 1)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("dashboard/", view(self.dashboard_view), name="customers_metrics_dashboard"),
            path("recompute/", view(require_POST(self.recompute_view)), name="customers_metrics_recompute"),
            path("export-audience/", view(self.export_view), name="customers_audience_export"),
            *super().get_urls(),
        ]

    def _require(self, request: HttpRequest, perm: str) -> None:
        if not request.user.has_perm(perm):
            raise PermissionDenied

    def _tools(self, request: HttpRequest) -> dict[str, bool]:
        """Which of the page's buttons this user may use (the views refuse the others)."""
        return {
            "can_recompute": request.user.has_perm(RECOMPUTE_PERMISSION),
            "can_export_audience": request.user.has_perm(EXPORT_AUDIENCE_PERMISSION),
            "can_view_dashboard": request.user.has_perm("customers.view_customer"),
        }

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        return super().changelist_view(request, {**self._tools(request), **(extra_context or {})})

    def dashboard_view(self, request: HttpRequest) -> HttpResponse:
        self._require(request, "customers.view_customer")
        context = {
            **self.admin_site.each_context(request),
            "title": "Customer metrics",
            "opts": self.model._meta,
            "overview": metrics_overview(),
            "consent_policy": consent_policy_summary(),
            **self._tools(request),
        }
        return TemplateResponse(request, "admin/customers/metrics/dashboard.html", context)

    def recompute_view(self, request: HttpRequest) -> HttpResponse:
        self._require(request, RECOMPUTE_PERMISSION)
        from customers.tasks import compute_metrics

        transaction.on_commit(compute_metrics.delay)
        messages.success(request, "Recomputing customer metrics in the background; refresh in a few minutes.")
        return redirect(reverse("admin:customers_metrics_dashboard"))

    def export_view(self, request: HttpRequest) -> HttpResponse:
        self._require(request, EXPORT_AUDIENCE_PERMISSION)
        form = AudienceExportForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            spec, platform = form.cleaned_data["audience"], form.cleaned_data["platform"]
            try:
                customers = audience_customers(spec)
            except AudienceError as exc:
                form.add_error("audience", str(exc))
            else:
                response = StreamingHttpResponse(
                    audience_csv_lines(customers, platform=platform), content_type="text/csv; charset=utf-8"
                )
                filename = f"audience-{slugify(spec) or 'export'}-{platform}.csv"
                response["Content-Disposition"] = f'attachment; filename="{filename}"'
                return response
        context = {
            **self.admin_site.each_context(request),
            "title": "Export an ad audience",
            "opts": self.model._meta,
            "form": form,
            "formats": {name: fmt.header for name, fmt in FORMATS.items()},
            "consent_policy": consent_policy_summary(),
        }
        return TemplateResponse(request, "admin/customers/metrics/export_audience.html", context)
