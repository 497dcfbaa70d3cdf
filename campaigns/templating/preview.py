"""Previews of saved versions and of unsaved template edits, for the admin."""

from __future__ import annotations

from dataclasses import dataclass, field

from campaigns.models import TemplateVersion
from campaigns.rendering import RenderedEmail, message_render, parsed_render
from campaigns.services.templates import template_check
from campaigns.templating.engine import parsed_version_get
from campaigns.templating.newlines import newlines_normalise
from campaigns.templating.problems import TemplateProblem
from campaigns.templating.samples import sample_extra
from customers.models import Customer


@dataclass
class PreviewResult:
    email: RenderedEmail | None
    problems: list[TemplateProblem] = field(default_factory=list)

    def as_json(self) -> dict:
        data: dict = {
            "ok": self.email is not None,
            "errors": [{"field": p.field, "line": p.line, "message": str(p)} for p in self.problems],
        }
        if self.email is not None:
            data.update(
                subject=self.email.subject, preheader=self.email.preheader, html=self.email.html, text=self.email.text
            )
        return data


def template_preview(*, subject: str, preheader: str, mjml: str, customer: Customer) -> PreviewResult:
    """Validate and render unsaved sources for one customer; nothing is written."""
    subject, preheader, mjml = (newlines_normalise(source) for source in (subject, preheader, mjml))
    check = template_check(subject=subject, preheader=preheader, mjml=mjml)
    if not check.is_valid:
        return PreviewResult(email=None, problems=check.problems)
    parsed = parsed_version_get(
        version_id=None, subject=subject, preheader=preheader, compiled_html=check.compiled_html
    )
    email = parsed_render(parsed, customer=customer, message_id=None, extra=sample_extra())
    return PreviewResult(email=email)


def version_preview(*, version: TemplateVersion, customer: Customer) -> RenderedEmail:
    return message_render(version=version, customer=customer, extra=sample_extra())
