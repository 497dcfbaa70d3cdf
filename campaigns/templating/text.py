"""The plain-text part: HTML converted with html2text, links kept as readable Markdown links.

Converting the final HTML of every recipient costs several milliseconds (email layouts are
deeply nested tables). The compiled HTML of a version still holds its template tags, so it
is converted once per version into a plain-text *template* instead, with the tags shielded
from html2text by placeholders; per recipient only that template is rendered. If the tags do
not survive the conversion (one half of an {% if %} inside an image attribute, say), the
version falls back to converting each recipient's final HTML.
"""

from __future__ import annotations

import re
import secrets

import html2text

_HEAD_RE = re.compile(r"<head\b.*?</head>", re.IGNORECASE | re.DOTALL)
_COMMENT_RE = re.compile(r"<!--.*?-->", re.DOTALL)
# MJML's hidden preview line (mj-preview): inbox-only, not part of the readable text.
_HIDDEN_PREHEADER_RE = re.compile(r'<div style="display:none;font-size:1px;[^"]*">.*?</div>', re.DOTALL)
_BLANK_LINES_RE = re.compile(r"\n{3,}")
_TEMPLATE_TAG_RE = re.compile(r"\{%.*?%\}|\{\{.*?\}\}|\{#.*?#\}", re.DOTALL)


def html_to_text(html: str) -> str:
    body = _HEAD_RE.sub("", html, count=1)
    body = _COMMENT_RE.sub("", body)
    body = _HIDDEN_PREHEADER_RE.sub("", body, count=1)
    converter = html2text.HTML2Text()
    converter.body_width = 0
    converter.ignore_images = True
    converter.ignore_tables = True
    converter.ignore_emphasis = True
    converter.skip_internal_links = True
    converter.unicode_snob = True
    return text_tidy(converter.handle(body))


def text_tidy(text: str) -> str:
    lines = [line.strip() for line in text.splitlines()]
    return _BLANK_LINES_RE.sub("\n\n", "\n".join(lines)).strip() + "\n"


def text_template_source(compiled_html: str) -> str:
    """The plain-text conversion of a compiled version, its template tags left intact."""
    nonce = secrets.token_hex(4)
    tags: list[str] = []

    def shield(match: re.Match[str]) -> str:
        tags.append(match.group(0))
        return f"tpl{nonce}n{len(tags) - 1}x"

    text = html_to_text(_TEMPLATE_TAG_RE.sub(shield, compiled_html))
    return re.sub(rf"tpl{nonce}n(\d+)x", lambda m: tags[int(m.group(1))], text)
