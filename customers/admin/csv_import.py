"""An "Import CSV" page on a model admin, calling the same import services as the commands."""

from __future__ import annotations

from pathlib import PurePath
from typing import BinaryIO

from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse

from customers.services.imports import ImportAborted, ImportReport


class CsvImportForm(forms.Form):
    file = forms.FileField(label="CSV file", help_text="UTF-8, comma separated, first row is the header.")


class CsvImportMixin(admin.ModelAdmin):
    """Adds /import-csv/ to a ModelAdmin and an "Import CSV" button on its change list."""

    change_list_template = "admin/customers/csv_import_change_list.html"
    csv_columns: str = ""
    csv_permissions: tuple[str, ...] = ()

    def csv_import(self, *, stream: BinaryIO, actor: str, source_name: str) -> ImportReport:
        raise NotImplementedError

    def _csv_url_name(self) -> str:
        return f"{self.opts.app_label}_{self.opts.model_name}_import_csv"

    def get_urls(self):
        view = self.admin_site.admin_view(self.csv_import_view)
        return [path("import-csv/", view, name=self._csv_url_name()), *super().get_urls()]

    def has_csv_import_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perms(self.csv_permissions)

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        extra_context = extra_context or {}
        if self.has_csv_import_permission(request):
            extra_context["csv_import_url"] = reverse(f"admin:{self._csv_url_name()}")
        return super().changelist_view(request, extra_context=extra_context)

    def csv_import_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_csv_import_permission(request):
            raise PermissionDenied
        report = None
        form = CsvImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            report = self._run(request, form)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Import {self.opts.verbose_name_plural} from CSV",
            "form": form,
            "columns": self.csv_columns,
            "report": report,
            "failures": sorted(report.failures, key=lambda f: f.line) if report else [],
            "max_mb": _max_bytes() // (1024 * 1024),
        }
        return TemplateResponse(request, "admin/customers/csv_import.html", context)

    def _run(self, request: HttpRequest, form: CsvImportForm) -> ImportReport | None:
        upload = form.cleaned_data["file"]
        if upload.size > _max_bytes():
            form.add_error("file", f"The file is larger than {_max_bytes() // (1024 * 1024)} MB: use the command line.")
            return None
        stream = upload.open("rb")
        try:
            return self.csv_import(
                stream=stream, actor=request.user.get_username(), source_name=PurePath(upload.name).name[:100]
            )
        except ImportAborted as exc:
            form.add_error("file", str(exc))
            return None
        finally:
            stream.close()


def _max_bytes() -> int:
    return getattr(settings, "IMPORT_ADMIN_MAX_MB", 50) * 1024 * 1024
