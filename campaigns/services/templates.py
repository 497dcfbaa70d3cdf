"""Saving, validating and versioning email templates."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Max
from django.template import TemplateSyntaxError

from campaigns.models import Template, TemplateVersion
from campaigns.rendering import message_render
from campaigns.templating.engine import template_parse
from campaigns.templating.mjml import mjml_compile
from campaigns.templating.newlines import newlines_normalise
from campaigns.templating.problems import TemplateProblem
from campaigns.templating.samples import sample_customer, sample_extra
from campaigns.templating.starters import starter_templates
from campaigns.templating.variables import template_problems
from customers.models import Customer

_UNSUBSCRIBE_RE = re.compile(r"\{\{\s*unsubscribe_url\s*(\||\}\})")


@dataclass(frozen=True)
class TemplateCheck:
    compiled_html: str
    problems: list[TemplateProblem]

    @property
    def is_valid(self) -> bool:
        return not self.problems

    def errors_by_field(self) -> dict[str, list[str]]:
        fields: dict[str, list[str]] = {}
        for problem in self.problems:
            fields.setdefault(problem.field, []).append(str(problem))
        return fields

    def errors_text(self) -> str:
        return "\n".join(f"{p.field}: {p}" for p in self.problems)


def template_check(*, subject: str, preheader: str, mjml: str) -> TemplateCheck:
    """Validate the three sources and compile the MJML. Nothing is written."""
    subject, preheader, mjml = (newlines_normalise(source) for source in (subject, preheader, mjml))
    problems: list[TemplateProblem] = []
    for field, source in (("subject", subject), ("preheader", preheader)):
        problems += template_problems(source, field=field)[1]
        if "\n" in source:
            problems.append(TemplateProblem(field, None, "Must be a single line."))
    parsed, body_problems = template_problems(mjml, field="mjml")
    problems += body_problems
    if parsed is not None and not _UNSUBSCRIBE_RE.search(mjml):
        problems.append(TemplateProblem("mjml", None, "The body must contain a visible {{ unsubscribe_url }} link."))
    compiled_html, mjml_problems = mjml_compile(mjml)
    problems += mjml_problems
    if compiled_html and parsed is not None:
        try:
            template_parse(compiled_html)
        except TemplateSyntaxError as error:
            # The source parsed, so MJML moved a tag (e.g. {% if %} between columns).
            message = (
                f"After MJML compilation the template tags no longer nest: {error}. "
                "Keep block tags inside one element or use <mj-raw>."
            )
            problems.append(TemplateProblem("mjml", None, message))
    return TemplateCheck(compiled_html=compiled_html if not problems else "", problems=problems)


def _same_as(version: TemplateVersion | None, template: Template) -> bool:
    return (
        version is not None
        and version.subject == template.subject
        and version.preheader == template.preheader
        and version.mjml == template.mjml
    )


@transaction.atomic
def template_save(*, template: Template, user: AbstractBaseUser | None) -> TemplateVersion | None:
    """Validate and save `template`; a valid change becomes a new version (number + 1).

    Existing versions are never modified (messages point at them). An invalid template is
    saved with is_valid False and its errors, keeps its previous current version and gets no
    new one. Returns the current version, or None when the template is invalid.
    """
    template.subject = newlines_normalise(template.subject)
    template.preheader = newlines_normalise(template.preheader)
    template.mjml = newlines_normalise(template.mjml)
    check = template_check(subject=template.subject, preheader=template.preheader, mjml=template.mjml)
    if template.pk:
        Template.objects.select_for_update().filter(pk=template.pk).first()
    template.is_valid = check.is_valid
    template.validation_errors = check.errors_text()
    template.save()
    if not check.is_valid:
        return None
    current = template.current_version
    if _same_as(current, template):
        return current
    number = (template.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    version = TemplateVersion.objects.create(
        template=template,
        number=number,
        subject=template.subject,
        preheader=template.preheader,
        mjml=template.mjml,
        compiled_html=check.compiled_html,
        created_by=user if user is not None and user.is_authenticated else None,
    )
    template.current_version = version
    template.save(update_fields=["current_version", "updated_at"])
    return version


def template_assert_usable(template: Template) -> TemplateVersion:
    """The version an active campaign will send; raises ValidationError when there is none."""
    if not template.is_valid:
        errors = template.validation_errors or "it has not been validated"
        raise ValidationError(f"Template “{template.name}” has errors and cannot be used: {errors}")
    if template.current_version_id is None:
        raise ValidationError(f"Template “{template.name}” has no saved version yet.")
    return template.current_version


def starter_templates_load() -> tuple[list[str], list[str]]:
    """Create the starter templates that do not exist yet, each with a first version.

    Templates that exist (by name) are left alone, so staff edits are never overwritten.
    Returns (created names, skipped names).
    """
    created: list[str] = []
    skipped: list[str] = []
    for starter in starter_templates():
        if Template.objects.filter(name=starter.name).exists():
            skipped.append(starter.name)
            continue
        template = Template(
            name=starter.name,
            purpose=starter.purpose,
            subject=starter.subject,
            preheader=starter.preheader,
            mjml=starter.mjml,
        )
        if template_save(template=template, user=None) is None:
            raise ValidationError(f"Starter template {starter.name} is invalid: {template.validation_errors}")
        created.append(starter.name)
    return created, skipped


def template_send_test(
    *, template: Template, user: AbstractBaseUser, customer: Customer | None = None, address: str = ""
) -> str:
    """Send the template's current version, personalised for `customer` (or a sample), to the
    staff user's own address with a "[TEST]" subject. Returns the address it was sent to.

    `address`, when given, becomes the staff user's own address first (the test-send dialog
    asks for it), so staff without the right to edit users can still receive their tests.
    """
    if address.strip():
        staff_email_set(user=user, address=address)
    address = getattr(user, "email", "")
    if not address:
        raise ValidationError("Enter your email address to receive the test.")
    version = template.current_version
    if version is None:
        raise ValidationError("This template has no valid saved version to send.")
    email = message_render(version=version, customer=customer or sample_customer(user), extra=sample_extra())
    message = EmailMultiAlternatives(
        subject=f"[TEST] {email.subject}",
        body=email.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[address],
    )
    message.attach_alternative(email.html, "text/html")
    message.send(fail_silently=False)
    return address


def staff_email_set(*, user: AbstractBaseUser, address: str) -> None:
    """Make `address` the staff user's own email (where test sends go)."""
    address = address.strip()
    try:
        validate_email(address)
    except ValidationError:
        raise ValidationError(f"“{address}” is not a valid email address.") from None
    if getattr(user, "email", "") != address:
        user.email = address
        user.save(update_fields=["email"])
