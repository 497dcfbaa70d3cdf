from __future__ import annotations

import json

from django import forms
from django.contrib import admin
from django.http import HttpRequest, JsonResponse
from django.urls import path

from campaigns.journeys.rules import RuleError, validate_rules
from campaigns.journeys.selectors.segments import segment_count, segment_mailable_count
from campaigns.models import Segment


class SegmentForm(forms.ModelForm):
    class Meta:
        model = Segment
        fields = ["name", "description", "rules"]
        help_texts = {
            "rules": 'JSON rules, e.g. {"all": [{"field": "lifecycle_stage", "op": "eq", "value": "active"}]}. '
            "See campaigns/journeys/rules.py for every field and operator."
        }

    def clean_rules(self):
        rules = self.cleaned_data["rules"]
        errors = validate_rules(rules)
        if errors:
            raise forms.ValidationError(errors)
        return rules


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
    form = SegmentForm
    list_display = ["name", "customer_count", "mailable_count", "updated_at"]
    search_fields = ["name"]

    class Media:
        js = ["journeys/segment_count.js"]

    @admin.display(description="Customers")
    def customer_count(self, obj: Segment) -> int | str:
        try:
            return segment_count(obj.rules)
        except RuleError:
            return "invalid rules"

    @admin.display(description="Mailable now (consent policy)")
    def mailable_count(self, obj: Segment) -> int | str:
        try:
            return segment_mailable_count(obj.rules)
        except RuleError:
            return "invalid rules"

    def get_urls(self):
        extra = [path("count/", self.admin_site.admin_view(self.count_view), name="journeys_segment_count")]
        return extra + super().get_urls()

    def count_view(self, request: HttpRequest) -> JsonResponse:
        """Live count while editing: POST {"rules": ...} -> {"count": n} or {"errors": [...]}."""
        if request.method != "POST":
            return JsonResponse({"errors": ["POST the rules as JSON"]}, status=405)
        if not self.has_view_permission(request):
            return JsonResponse({"errors": ["permission denied"]}, status=403)
        try:
            rules = json.loads(request.body or b"{}").get("rules")
        except (ValueError, AttributeError):
            return JsonResponse({"errors": ["rules: not valid JSON"]}, status=400)
        errors = validate_rules(rules)
        if errors:
            return JsonResponse({"errors": errors}, status=400)
        return JsonResponse({"count": segment_count(rules), "mailable": segment_mailable_count(rules)})
