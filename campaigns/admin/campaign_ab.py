"""Setting up an A/B test from a step on the campaign page: pick variant templates, no ids to type."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from campaigns.journeys.models import ABTest
from campaigns.journeys.services.ab_tests import ab_test_create
from campaigns.models import Step, Template

if TYPE_CHECKING:
    from django.contrib.admin import ModelAdmin

DECIDE_AFTER = [
    (4, "4 hours"),
    (12, "12 hours"),
    (24, "1 day"),
    (48, "2 days"),
    (72, "3 days"),
    (168, "1 week"),
]


class TemplateChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Template) -> str:
        return f"{obj.name} — subject “{obj.subject}”"


class ABTestSetupForm(forms.Form):
    variants = TemplateChoice(
        queryset=Template.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        label="Test against",
        help_text="Each template you tick becomes an arm (B, C, …); the step's own template is arm A.",
    )
    sample_size = forms.IntegerField(
        min_value=4,
        initial=1000,
        label="Sample size",
        help_text="How many recipients of this step take part, split evenly across the arms. "
        "Later recipients wait for the winner.",
    )
    decide_after = forms.TypedChoiceField(
        choices=DECIDE_AFTER,
        coerce=int,
        initial=24,
        label="Pick the winner after",
        help_text="Counted from the first test message; the arm with the best human click rate wins.",
    )

    def __init__(self, *args, step: Step, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["variants"].queryset = (
            Template.objects.filter(is_valid=True).exclude(pk=step.template_id).order_by("name")
        )


def ab_test_setup_view(model_admin: ModelAdmin, request: HttpRequest, pk: int, step_pk: int) -> HttpResponse:
    step = get_object_or_404(Step.objects.select_related("campaign", "template"), pk=step_pk, campaign_id=pk)
    campaign = step.campaign
    if not model_admin.has_change_permission(request, campaign):
        raise PermissionDenied
    page = reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    if ABTest.objects.filter(step=step).exists():
        messages.info(request, f"Step {step.position} already has an A/B test: its arms are listed below.")
        return redirect(f"{page}#campaign-ab")
    form = ABTestSetupForm(request.POST or None, step=step)
    if request.method == "POST" and form.is_valid():
        try:
            ab_test_create(
                step=step,
                variants=list(form.cleaned_data["variants"]),
                sample_size=form.cleaned_data["sample_size"],
                decide_after=timedelta(hours=form.cleaned_data["decide_after"]),
                user=request.user,
            )
        except ValidationError as error:
            for text in error.messages:
                form.add_error(None, text)
        else:
            started = f"A/B test of step {step.position} set up. It starts with the step's next message."
            messages.success(request, started)
            return redirect(f"{page}#campaign-ab")
    context = {
        **model_admin.admin_site.each_context(request),
        "title": f"Set up an A/B test: {campaign.name}, step {step.position}",
        "opts": model_admin.model._meta,
        "original": campaign,
        "step": step,
        "form": form,
        "campaign_url": page,
        "queued_before": step.messages.filter(status="queued", is_test=False).count(),
    }
    return TemplateResponse(request, "admin/campaigns/campaign/ab_test_form.html", context)
