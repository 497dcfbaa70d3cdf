"""Template sources arrive with CRLF (browsers' form encoding) or CR line endings: saved as LF."""

from __future__ import annotations

import pytest

from campaigns.models import Template
from campaigns.services.templates import template_save
from campaigns.templating.starters import starter_templates

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("ending", ["\r\n", "\r"])
def test_every_starter_saves_with_windows_or_old_mac_line_endings(ending):
    for starter in starter_templates():
        template = Template(
            name=starter.name,
            purpose=starter.purpose,
            subject=starter.subject,
            preheader=starter.preheader,
            mjml=starter.mjml.replace("\n", ending),
        )
        version = template_save(template=template, user=None)
        assert version is not None, (starter.name, template.validation_errors)
        assert version.mjml == starter.mjml and "\r" not in template.mjml
        assert "<html" in version.compiled_html


def test_a_carriage_return_in_the_subject_is_refused_as_a_second_line():
    starter = starter_templates()[0]
    template = Template(name="x", purpose=starter.purpose, subject="Hi\rthere", mjml=starter.mjml)
    assert template_save(template=template, user=None) is None
    assert "subject: Must be a single line." in template.validation_errors
