"""MJML compilation (mjml-python, a Rust port of MJML) with line-numbered structure checks.

The compiler's own error messages carry no position, so a light structural pass over the
source finds the line of the usual mistakes first: unknown or misspelled mj- elements,
closing tags that do not match, unclosed elements and a bare '<' in text.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from mjml import mjml2html

from campaigns.templating.problems import TemplateProblem

KNOWN_ELEMENTS = frozenset(
    """mjml mj-head mj-body mj-attributes mj-all mj-class mj-breakpoint mj-font mj-preview mj-style mj-title
    mj-accordion mj-accordion-element mj-accordion-title mj-accordion-text mj-button mj-carousel
    mj-carousel-image mj-column mj-divider mj-group mj-hero mj-image mj-navbar mj-navbar-link mj-raw
    mj-section mj-social mj-social-element mj-spacer mj-table mj-text mj-wrapper""".split()
)
_TEMPLATE_TAG_RE = re.compile(r"\{%.*?%\}|\{\{.*?\}\}|\{#.*?#\}", re.DOTALL)
_BARE_LT_RE = re.compile(r"<(?![A-Za-z/!?])")
_OPEN_RE = re.compile(r"<mjml\b[^>]*>")


class _MjmlStructure(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, int]] = []
        self.problems: list[TemplateProblem] = []

    def _mj(self, tag: str) -> bool:
        return tag == "mjml" or tag.startswith("mj-")

    def _check_known(self, tag: str) -> None:
        if tag not in KNOWN_ELEMENTS:
            self.problems.append(TemplateProblem("mjml", self.getpos()[0], f"Unknown MJML element <{tag}>."))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._mj(tag):
            self._check_known(tag)
            self.stack.append((tag, self.getpos()[0]))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._mj(tag):
            self._check_known(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self._mj(tag):
            return
        line = self.getpos()[0]
        if not self.stack:
            self.problems.append(TemplateProblem("mjml", line, f"</{tag}> closes nothing."))
            return
        open_tag, open_line = self.stack[-1]
        if open_tag == tag:
            self.stack.pop()
        else:
            message = f"</{tag}> does not match <{open_tag}> opened on line {open_line}."
            self.problems.append(TemplateProblem("mjml", line, message))
            if any(t == tag for t, _ in self.stack):
                while self.stack and self.stack[-1][0] != tag:
                    self.stack.pop()
                self.stack.pop()


def _blank_template_tags(source: str) -> str:
    """Replace template tags with spaces, keeping newlines, so positions stay the same."""
    return _TEMPLATE_TAG_RE.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), source)


def mjml_structure_problems(source: str) -> list[TemplateProblem]:
    text = _blank_template_tags(source)
    problems: list[TemplateProblem] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if _BARE_LT_RE.search(line):
            problems.append(TemplateProblem("mjml", number, "A '<' that starts no tag: write &lt; in text."))
    parser = _MjmlStructure()
    parser.feed(text)
    parser.close()
    problems.extend(parser.problems)
    for tag, line in parser.stack:
        problems.append(TemplateProblem("mjml", line, f"<{tag}> is never closed."))
    if not _OPEN_RE.search(text):
        problems.append(TemplateProblem("mjml", 1, "The body must be an <mjml> document."))
    return sorted(problems, key=lambda p: p.line or 0)


def mjml_with_head(source: str) -> str:
    """Add <mj-title>{{ subject }}</mj-title> and <mj-preview>{{ preheader }}</mj-preview> when
    the author did not, so every email has a title and its preheader as the inbox preview."""
    additions = ""
    if "<mj-title" not in source:
        additions += "<mj-title>{{ subject }}</mj-title>"
    if "<mj-preview" not in source:
        additions += "<mj-preview>{{ preheader }}</mj-preview>"
    if not additions:
        return source
    head = re.search(r"<mj-head\b[^>]*>", source)
    if head:
        return source[: head.end()] + additions + source[head.end() :]
    root = _OPEN_RE.search(source)
    if root is None:
        return source
    return source[: root.end()] + f"<mj-head>{additions}</mj-head>" + source[root.end() :]


def mjml_compile(source: str) -> tuple[str, list[TemplateProblem]]:
    """Compile MJML to HTML (template tags are kept as they are). Returns (html, problems)."""
    problems = mjml_structure_problems(source)
    try:
        html = mjml2html(mjml_with_head(source), disable_comments=True)
    except (ValueError, RuntimeError) as error:
        if not problems:
            problems.append(TemplateProblem("mjml", None, f"MJML could not be compiled: {error}."))
        return "", problems
    return html, problems
