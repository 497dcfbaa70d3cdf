"""Campaign admin: the journey, its funnel and results, live progress, and the staff actions.

Every action calls a service in campaigns.services.campaign_admin; this module only parses
the request, reports the outcome and renders.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from campaigns.admin.campaign_ab import ab_test_setup_view
from campaigns.journeys.rules import RuleError
from campaigns.journeys.selectors.engagement import condition_errors
from campaigns.journeys.services.arbitration import sunset_rule_words
from campaigns.journeys.services.offers import offer_errors
from campaigns.models import Campaign, CampaignKind, Segment, Step, Trigger, triggers_for_kind
from campaigns.selectors.campaign_page import (
    campaign_audience_count,
    campaign_history,
    campaign_report,
    campaign_status_counts,
    campaign_sunset_exceptions,
    segment_audience_count,
)
from campaigns.selectors.campaign_progress import campaign_progress
from campaigns.selectors.sending import campaign_send_audience, campaign_send_audience_new
from campaigns.services import campaign_admin as actions
from customers.models import Customer

RECENT_CUSTOMERS = 20
CHART_SERIES = ("labels", "sent", "delivered", "opened_human", "clicked_human", "orders", "revenue")


class StepForm(forms.ModelForm):
    class Meta:
        model = Step
        fields = ("position", "template", "delay", "delay_from", "condition", "offer")
        help_texts = {
            "delay": "e.g. 1 day, 04:00:00 (4 hours) or 3 00:00:00 (3 days).",
            "condition": 'e.g. {"has_not_clicked": true}',
            "offer": 'e.g. {"type": "percent", "value": 10, "code_prefix": "BACK"}',
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # "Add another step" leaves it blank: the step then goes after the last one (see save_formset).
        self.fields["position"].required = False
        self.fields["position"].help_text = "Leave blank to add it after the last step."

    def clean_condition(self) -> dict:
        value = self.cleaned_data.get("condition") or {}
        if errors := condition_errors(value):
            raise ValidationError(errors)
        return value

    def clean_offer(self) -> dict:
        value = self.cleaned_data.get("offer") or {}
        if errors := offer_errors(value):
            raise ValidationError(errors)
        return value


class CampaignForm(forms.ModelForm):
    """The trigger's choices and default follow the kind (campaign_trigger.js switches them as the
    kind changes; the model refuses a combination that does not fit)."""

    class Meta:
        model = Campaign
        fields = "__all__"  # noqa: DJ007 - the admin's fieldsets choose the fields shown

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields.get("trigger")
        if field is None:
            return
        by_kind = {kind: [t.value for t in triggers_for_kind(kind)] for kind in CampaignKind.values}
        field.widget.attrs["data-triggers-by-kind"] = json.dumps(by_kind)
        kind = self.instance.kind if self.instance.pk else self.initial.get("kind")
        if kind and not self.is_bound:
            field.choices = [(t.value, t.label) for t in triggers_for_kind(kind)]

    def clean(self) -> dict:
        data = super().clean()
        # Without the script, a one-off send posts the form's default trigger: it means "Sent by staff".
        if data.get("kind") == CampaignKind.ONE_OFF and "trigger" not in self.changed_data:
            data["trigger"] = Trigger.MANUAL
        return data


class StepInline(admin.StackedInline):
    model = Step
    form = StepForm
    extra = 0
    ordering = ("position",)
    fieldsets = [(None, {"fields": (("position", "template"), ("delay", "delay_from"), ("condition", "offer"))})]


class CampaignChangeList(ChangeList):
    """Message counts for the campaigns on this page only, in one grouped query (cached briefly)."""

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        counts = campaign_status_counts(campaign_ids=[c.pk for c in self.result_list])
        for campaign in self.result_list:
            campaign.message_counts = counts.get(campaign.pk, {})


# (action name, service, past tense, permission the user needs)
ACTIONS: dict[str, tuple[Callable, str, str]] = {
    "activate": (actions.campaign_activate, "activated", "change"),
    "pause": (actions.campaign_pause, "paused", "change"),
    "resume": (actions.campaign_resume, "resumed", "change"),
    "archive": (actions.campaign_archive, "archived", "change"),
    "duplicate": (actions.campaign_duplicate, "duplicated", "add"),
}


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    form = CampaignForm
    list_display = ("name", "kind", "status", "segment", "priority", "sent", "queued", "unknown", "updated_at")
    list_filter = ("kind", "status")
    search_fields = ("name",)
    list_select_related = ("segment",)
    show_full_result_count = False
    inlines = [StepInline]
    change_form_template = "admin/campaigns/campaign/change_form.html"
    actions = ["activate_selected", "pause_selected", "resume_selected", "archive_selected", "duplicate_selected"]
    actions += ["send_now"]

    class Media:
        css = {"all": ["campaigns/admin_dashboard.css"]}
        js = ["campaigns/campaign_trigger.js"]

    def save_formset(self, request: HttpRequest, form, formset, change: bool) -> None:
        if formset.model is not Step:
            return super().save_formset(request, form, formset, change)
        steps = formset.save(commit=False)
        for step in formset.deleted_objects:
            step.delete()
        taken = set(Step.objects.filter(campaign=form.instance).values_list("position", flat=True))
        taken |= {step.position for step in steps if step.position}
        for step in steps:
            if not step.position:  # blank: after the last step, in the order the rows stand
                step.position = max(taken, default=0) + 1
                taken.add(step.position)
            step.save()
        formset.save_m2m()

    def get_readonly_fields(self, request: HttpRequest, obj: Campaign | None = None) -> tuple[str, ...]:
        # Status changes go through the actions (checks, held mail, audit), never the plain form.
        return ("status",)

    def get_changelist(self, request: HttpRequest, **kwargs) -> type[ChangeList]:
        return CampaignChangeList

    @admin.display(description="Sent")
    def sent(self, obj: Campaign) -> int:
        return obj.message_counts.get("sent", 0)

    @admin.display(description="Queued")
    def queued(self, obj: Campaign) -> int:
        return obj.message_counts.get("queued", 0)

    @admin.display(description="Unknown outcome")
    def unknown(self, obj: Campaign) -> int:
        return obj.message_counts.get("unknown", 0)

    # --- actions: list and buttons share one path into the services ---
    def _run(self, request: HttpRequest, name: str, campaign: Campaign) -> Campaign | None:
        service, done, _ = ACTIONS[name]
        try:
            result = service(campaign=campaign, user=request.user)
        except ValidationError as error:
            for text in error.messages:
                self.message_user(request, f"{campaign}: {text}", messages.ERROR)
            return None
        self.message_user(request, f"“{campaign}” {done}." if name != "duplicate" else f"Created “{result}” (draft).")
        return result

    def _run_all(self, request: HttpRequest, queryset: QuerySet[Campaign], name: str) -> None:
        for campaign in queryset.select_related("segment"):
            self._run(request, name, campaign)

    @admin.action(description="Activate selected campaigns (after checking they can run)", permissions=["change"])
    def activate_selected(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        self._run_all(request, queryset, "activate")

    @admin.action(description="Pause selected campaigns (queued mail is held)", permissions=["change"])
    def pause_selected(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        self._run_all(request, queryset, "pause")

    @admin.action(description="Resume selected campaigns where they stopped", permissions=["change"])
    def resume_selected(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        self._run_all(request, queryset, "resume")

    @admin.action(description="Archive selected campaigns", permissions=["change"])
    def archive_selected(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        self._run_all(request, queryset, "archive")

    @admin.action(description="Duplicate selected campaigns as drafts", permissions=["add"])
    def duplicate_selected(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        self._run_all(request, queryset, "duplicate")

    @admin.action(description="Send now… (one-off campaigns: shows the audience first)", permissions=["change"])
    def send_now(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> HttpResponse | None:
        campaigns = list(queryset[:2])
        if len(campaigns) != 1:
            self.message_user(
                request, "Choose one campaign to send now: each send shows its audience first.", messages.WARNING
            )
            return None
        campaign = campaigns[0]
        if campaign.kind != CampaignKind.ONE_OFF:
            self.message_user(request, f"{campaign}: only one-off campaigns are sent on demand.", messages.WARNING)
            return None
        return redirect(reverse("admin:campaigns_campaign_send_now", args=[campaign.pk]))

    # --- extra pages: action buttons and the progress endpoint ---
    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/do/<str:name>/", wrap(self.action_view), name="campaigns_campaign_action"),
            path("<int:pk>/progress/", wrap(self.progress_view), name="campaigns_campaign_progress"),
            path(
                "<int:pk>/steps/<int:step_pk>/ab-test/",
                wrap(lambda request, pk, step_pk: ab_test_setup_view(self, request, pk, step_pk)),
                name="campaigns_campaign_ab_test",
            ),
            path("<int:pk>/send-now/", wrap(self.send_now_view), name="campaigns_campaign_send_now"),
            path("audience/", wrap(self.audience_view), name="campaigns_campaign_audience"),
            *super().get_urls(),
        ]

    def action_view(self, request: HttpRequest, pk: int, name: str) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if name not in ACTIONS:
            raise PermissionDenied
        campaign = get_object_or_404(Campaign.objects.select_related("segment"), pk=pk)
        needed = ACTIONS[name][2]
        allowed = self.has_add_permission(request) if needed == "add" else self.has_change_permission(request, campaign)
        if not allowed:
            raise PermissionDenied
        result = self._run(request, name, campaign)
        target = result if result is not None else campaign
        return redirect(reverse("admin:campaigns_campaign_change", args=[target.pk]))

    def send_now_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """ "Send now" for a one-off campaign: who it goes to, then the send. Without a segment it
        goes to everyone only when staff tick the confirmation."""
        campaign = get_object_or_404(Campaign.objects.select_related("segment"), pk=pk)
        if not self.has_change_permission(request, campaign):
            raise PermissionDenied
        change_url = reverse("admin:campaigns_campaign_change", args=[campaign.pk])
        if campaign.kind != CampaignKind.ONE_OFF:
            self.message_user(request, f"{campaign}: only one-off campaigns are sent on demand.", messages.WARNING)
            return redirect(change_url)
        if request.method == "POST":
            everyone = campaign.segment_id is None and request.POST.get("everyone") == "yes"
            try:
                planned = actions.campaign_send_now_by_staff(campaign=campaign, user=request.user, everyone=everyone)
            except ValidationError as error:
                for text in error.messages:
                    self.message_user(request, text, messages.ERROR)
            else:
                self.message_user(request, f"{campaign}: {planned} message(s) queued; sending has started.")
                return redirect(change_url)
        try:
            recipients: int | None = campaign_send_audience(campaign=campaign).count()
            new_recipients: int | None = campaign_send_audience_new(campaign=campaign).count()
        except RuleError:
            recipients = new_recipients = None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Send “{campaign}” now",
            "campaign": campaign,
            "recipients": recipients,
            "new_recipients": new_recipients,
            "already_planned": campaign.messages.filter(is_test=False).count(),
            "change_url": change_url,
        }
        return TemplateResponse(request, "admin/campaigns/campaign/send_now.html", context)

    def progress_view(self, request: HttpRequest, pk: int) -> JsonResponse:
        campaign = get_object_or_404(Campaign, pk=pk)
        if not self.has_view_permission(request, campaign):
            raise PermissionDenied
        return JsonResponse(campaign_progress(campaign=campaign))

    def audience_view(self, request: HttpRequest) -> JsonResponse:
        """Live audience count while editing: ?segment=<id> -> {"count": n} (cached briefly)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        raw = request.GET.get("segment", "")
        segment = Segment.objects.filter(pk=int(raw)).first() if raw.isdigit() else None
        if segment is None:
            return JsonResponse({"count": None})
        return JsonResponse({"count": segment_audience_count(segment=segment)})

    def change_view(self, request, object_id, form_url="", extra_context=None):
        campaign = Campaign.objects.select_related("segment").filter(pk=object_id).first()
        if campaign is not None:
            extra_context = {**(extra_context or {}), **self._page_context(request, campaign)}
        return super().change_view(request, object_id, form_url, extra_context)

    def _page_context(self, request: HttpRequest, campaign: Campaign) -> dict:
        report = campaign_report(campaign=campaign)
        return {
            **report,
            "audience_count": campaign_audience_count(campaign=campaign),
            "history": campaign_history(campaign=campaign),
            "sunset_rule": sunset_rule_words(campaign=campaign),
            "sunset_exceptions": campaign_sunset_exceptions(campaign=campaign),
            "progress": campaign_progress(campaign=campaign),
            "audience_url": reverse("admin:campaigns_campaign_audience"),
            "progress_poll_ms": settings.ADMIN_PROGRESS_POLL_MS,
            "progress_url": reverse("admin:campaigns_campaign_progress", args=[campaign.pk]),
            "chart_data": {key: report["by_day"][key] for key in CHART_SERIES},
            "currency": settings.SHOP_CURRENCY,
            "time_zone": settings.TIME_ZONE,
            "trigger_event_words": " or ".join(e.strip().replace("_", " ") for e in campaign.trigger_event.split(",")),
            "recent_customers": Customer.objects.order_by("-id").only("id", "email")[:RECENT_CUSTOMERS],
            "can_change": self.has_change_permission(request, campaign),
            "can_add": self.has_add_permission(request),
            "send_now_url": reverse("admin:campaigns_campaign_send_now", args=[campaign.pk])
            if campaign.kind == CampaignKind.ONE_OFF and campaign.status in ("draft", "active")
            else "",
            "action_names": [
                name
                for name, allowed in (
                    ("activate", campaign.status == "draft"),
                    ("pause", campaign.status == "active"),
                    ("resume", campaign.status == "paused"),
                    ("archive", campaign.status != "archived"),
                    ("duplicate", True),
                )
                if allowed
            ],
        }
