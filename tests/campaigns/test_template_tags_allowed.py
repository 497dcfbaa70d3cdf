"""Emails get only the tags and filters that are safe per recipient: no context dumps, no files,
no libraries, and no counts that make every send allocate gigabytes."""

from __future__ import annotations

import pytest
from django.template import Context

from campaigns.services.templates import template_check
from campaigns.templating.engine import template_parse
from campaigns.templating.starters import starter_templates


def _body_with(snippet: str) -> str:
    return starter_templates()[0].mjml.replace("</mj-text>", f"{snippet}</mj-text>", 1)


def _errors(snippet: str) -> list[str]:
    return [str(p) for p in template_check(subject="Hi", preheader="", mjml=_body_with(snippet)).problems]


@pytest.mark.parametrize(
    ("snippet", "error"),
    [
        ("{% debug %}", "{% debug %} is not allowed in emails: it would print everything"),
        ("{% lorem 9999999 w %}", "{% lorem %} makes at most 100 words or paragraphs, not 9999999."),
        ("{% load humanize %}", "{% load %} is not allowed in emails"),
        ('{% include "admin/base.html" %}', "{% include %} is not allowed in emails"),
        ('{% extends "admin/base.html" %}', "{% extends %} is not allowed in emails"),
        ('{% ssi "/etc/passwd" %}', "{% ssi %} is not allowed in emails"),
        ('{% url "admin:index" %}', "{% url %} is not allowed in emails"),
        ("{% csrf_token %}", "{% csrf_token %} is not allowed in emails"),
        ("{{ customer|pprint }}", "The filter |pprint is not allowed in emails"),
        ("{% if first_name %}{% debug %}{% endif %}", "{% debug %} is not allowed in emails"),
        ('{% for a in "xxxxxxxxxx" %}{{ a }}{% endfor %}', "{% for %} must loop over a variable"),
        ("{% frobnicate %}", "There is no {% frobnicate %} tag in emails"),
        ("{{ first_name|frobnicate }}", "There is no filter |frobnicate in emails."),
    ],
)
def test_refused_tags_are_named_in_staff_words(snippet, error):
    errors = _errors(snippet)
    assert len(errors) == 1 and error in errors[0], errors
    assert errors[0].startswith("line 20: ")


def test_allowed_tags_still_work():
    assert _errors("{% lorem 12 w %} {% now 'Y' %} {{ first_name|default:'there'|upper|center:30 }}") == []


def test_numbers_in_filters_are_bounded_when_they_come_from_data():
    template = template_parse(
        "{% lorem n w %}|{{ x|center:999999999 }}|{{ 3.14159|floatformat:99999999 }}|{{ x|stringformat:'999999999s' }}"
    )
    rendered = template.render(Context({"n": 9_999_999, "x": "ab"}))
    lorem, centred, number, formatted = rendered.split("|")
    assert len(lorem.split()) == 100
    assert len(centred) == 200
    assert number == "3.14159000000000000000"
    assert formatted == ""
