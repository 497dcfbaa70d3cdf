"""An "Import CSV" page on a model admin: the upload queues a background import job.

The request checks the header and stores the file, then shows the job's page: a progress bar
fed by a small JSON endpoint while the worker imports, then the counts and a downloadable
report of the failed rows (line, reason, the row as it stood in the file).
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from customers.models import ImportJob, ImportKind
from customers.selectors import import_failures_csv_lines, import_job_progress
from customers.services.imports import ImportAborted
from customers.services.imports.jobs import import_job_create

FAILURES_SHOWN = 100
RECENT_JOBS_SHOWN = 10


class CsvImportForm(forms.Form):
    file = forms.FileField(label="CSV file", help_text="UTF-8, comma separated, first row is the header.")


class CsvImportMixin(admin.ModelAdmin):
    """Adds /import-csv/ (and the job pages) to a ModelAdmin and an "Import CSV" button on its change list."""

    change_list_template = "admin/customers/csv_import_change_list.html"
    csv_columns: str = ""
    csv_kind: ImportKind = ImportKind.CUSTOMERS
    csv_permission: str = ""

    def _csv_url_name(self, suffix: str = "") -> str:
        return f"{self.opts.app_label}_{self.opts.model_name}_import_csv{suffix}"

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("import-csv/", view(self.csv_import_view), name=self._csv_url_name()),
            path("import-csv/<int:job_id>/", view(self.csv_job_view), name=self._csv_url_name("_job")),
            path(
                "import-csv/<int:job_id>/progress/", view(self.csv_progress_view), name=self._csv_url_name("_progress")
            ),
            path(
                "import-csv/<int:job_id>/failed-rows.csv",
                view(self.csv_failures_view),
                name=self._csv_url_name("_failures"),
            ),
            *super().get_urls(),
        ]

    def has_csv_import_permission(self, request: HttpRequest) -> bool:
        return bool(self.csv_permission) and request.user.has_perm(self.csv_permission)

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        extra_context = extra_context or {}
        if self.has_csv_import_permission(request):
            extra_context["csv_import_url"] = reverse(f"admin:{self._csv_url_name()}")
        return super().changelist_view(request, extra_context=extra_context)

    def _context(self, request: HttpRequest, title: str) -> dict:
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "import_url": reverse(f"admin:{self._csv_url_name()}"),
        }

    def csv_import_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_csv_import_permission(request):
            raise PermissionDenied
        form = CsvImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            job = self._queue(request, form)
            if job is not None:
                return redirect(reverse(f"admin:{self._csv_url_name('_job')}", args=[job.pk]))
        recent = ImportJob.objects.filter(kind=self.csv_kind).select_related("created_by")[:RECENT_JOBS_SHOWN]
        context = {
            **self._context(request, f"Import {self.opts.verbose_name_plural} from CSV"),
            "form": form,
            "columns": self.csv_columns,
            "max_mb": _max_bytes() // (1024 * 1024),
            "recent": [(job, reverse(f"admin:{self._csv_url_name('_job')}", args=[job.pk])) for job in recent],
        }
        return TemplateResponse(request, "admin/customers/csv_import.html", context)

    def _queue(self, request: HttpRequest, form: CsvImportForm) -> ImportJob | None:
        upload = form.cleaned_data["file"]
        if upload.size > _max_bytes():
            form.add_error("file", f"The file is larger than {_max_bytes() // (1024 * 1024)} MB: use the command line.")
            return None
        try:
            return import_job_create(kind=self.csv_kind, upload=upload, user=request.user)
        except ImportAborted as exc:
            form.add_error("file", f"{exc}")
            return None

    def _job(self, request: HttpRequest, job_id: int) -> ImportJob:
        if not self.has_csv_import_permission(request):
            raise PermissionDenied
        return get_object_or_404(ImportJob.objects.select_related("created_by"), pk=job_id, kind=self.csv_kind)

    def csv_job_view(self, request: HttpRequest, job_id: int) -> HttpResponse:
        job = self._job(request, job_id)
        context = {
            **self._context(request, f"Import of {job.source_name or 'a CSV file'}"),
            "job": job,
            "progress": import_job_progress(job=job),
            "progress_url": reverse(f"admin:{self._csv_url_name('_progress')}", args=[job.pk]),
            "failures_url": reverse(f"admin:{self._csv_url_name('_failures')}", args=[job.pk]),
            "poll_ms": settings.ADMIN_PROGRESS_POLL_MS,
            "failures": job.failures.order_by("line", "pk")[:FAILURES_SHOWN] if job.is_finished else [],
            "failures_shown": FAILURES_SHOWN,
        }
        return TemplateResponse(request, "admin/customers/csv_import_job.html", context)

    def csv_progress_view(self, request: HttpRequest, job_id: int) -> JsonResponse:
        return JsonResponse(import_job_progress(job=self._job(request, job_id)))

    def csv_failures_view(self, request: HttpRequest, job_id: int) -> StreamingHttpResponse:
        job = self._job(request, job_id)
        response = StreamingHttpResponse(import_failures_csv_lines(job=job), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-failed-rows.csv"'
        return response


def _max_bytes() -> int:
    return getattr(settings, "IMPORT_ADMIN_MAX_MB", 50) * 1024 * 1024
