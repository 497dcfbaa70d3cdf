"""The only tags and filters an email template can use: an allow-list over Django's built-ins.

The email engine loads this library instead of Django's default built-ins, so tags that leak
the context (`{% debug %}`), read other files (`{% include %}`, `{% extends %}`), load other
libraries (`{% load %}`) or only make sense on a web page (`{% url %}`, `{% csrf_token %}`)
do not exist for it. Tags and filters whose cost a number in the template decides
(`{% lorem %}`, `center`, `floatformat`, ...) are kept with that number bounded, so one
template cannot make every send allocate gigabytes.
"""

from __future__ import annotations

import re
from typing import Any

from django.template import Library, TemplateSyntaxError, defaultfilters, defaulttags
from django.template.base import Parser, Token, Variable
from django.utils.lorem_ipsum import paragraphs, words

LOREM_MAX = 100  # words or paragraphs of placeholder text
WIDTH_MAX = 200  # characters a padding filter may produce
DIGITS_MAX = 20  # decimal places floatformat may show

TAGS = (
    "autoescape",
    "comment",
    "cycle",
    "filter",
    "firstof",
    "for",
    "if",
    "ifchanged",
    "now",
    "regroup",
    "resetcycle",
    "spaceless",
    "templatetag",
    "verbatim",
    "widthratio",
    "with",
)
FILTERS = (
    "add",
    "addslashes",
    "capfirst",
    "cut",
    "date",
    "default",
    "default_if_none",
    "dictsort",
    "dictsortreversed",
    "divisibleby",
    "escape",
    "escapejs",
    "escapeseq",
    "filesizeformat",
    "first",
    "force_escape",
    "get_digit",
    "iriencode",
    "join",
    "last",
    "length",
    "linebreaks",
    "linebreaksbr",
    "linenumbers",
    "lower",
    "make_list",
    "phone2numeric",
    "pluralize",
    "random",
    "slice",
    "slugify",
    "striptags",
    "time",
    "timesince",
    "timeuntil",
    "title",
    "truncatechars",
    "truncatechars_html",
    "truncatewords",
    "truncatewords_html",
    "unordered_list",
    "upper",
    "urlencode",
    "urlize",
    "urlizetrunc",
    "wordcount",
    "wordwrap",
    "yesno",
)
# Tags and filters Django has that emails do not get, with the reason staff are shown.
REFUSED = {
    "debug": "it would print everything the email knows about the customer",
    "load": "emails cannot load extra tag libraries",
    "include": "an email cannot include other files",
    "extends": "an email cannot extend other files",
    "block": "emails have no blocks to override",
    "ssi": "an email cannot include other files",
    "url": "site URLs mean nothing in an inbox: use {{ shop.url }}",
    "csrf_token": "emails have no forms to protect",
    "querystring": "emails have no page request",
    "safe": "customer data is always HTML-escaped",
    "safeseq": "customer data is always HTML-escaped",
    "pprint": "it would print internal details",
    "json_script": "emails cannot run scripts",
}

register = Library()


class EmailTagError(TemplateSyntaxError):
    """A syntax error whose message is already in staff's words."""


for _name in TAGS:
    register.tag(_name, defaulttags.register.tags[_name])
for _name in FILTERS:
    register.filters[_name] = defaultfilters.register.filters[_name]  # keeps its is_safe/autoescape flags


def _bounded_int(value: Any, limit: int) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return max(-limit, min(number, limit))


@register.tag("lorem")
def lorem(parser: Parser, token: Token) -> defaulttags.LoremNode:
    """Django's lorem, with at most LOREM_MAX words or paragraphs (a literal count above that is an error)."""
    node = defaulttags.lorem(parser, token)
    count = node.count.var
    count = count.literal if isinstance(count, Variable) else count  # a number, or None for a variable
    if _bounded_int(count, LOREM_MAX + 1) == LOREM_MAX + 1:
        raise EmailTagError(f"{{% lorem %}} makes at most {LOREM_MAX} words or paragraphs, not {count}.")
    return _BoundedLoremNode(node.count, node.method, node.common)


class _BoundedLoremNode(defaulttags.LoremNode):
    def render(self, context) -> str:
        count = _bounded_int(self.count.resolve(context), LOREM_MAX)
        count = 1 if count is None else max(count, 0)
        if self.method == "w":
            return words(count, common=self.common)
        paras = paragraphs(count, common=self.common)
        if self.method == "p":
            paras = [f"<p>{p}</p>" for p in paras]
        return "\n\n".join(paras)


def _padding(name: str):
    original = defaultfilters.register.filters[name]

    def padded(value: Any, arg: Any) -> str:
        width = _bounded_int(arg, WIDTH_MAX)
        return original(value, 0 if width is None else width)  # 0: not a width, the value unchanged

    padded.__name__ = name
    register.filter(name, padded, is_safe=True)


for _name in ("center", "ljust", "rjust"):
    _padding(_name)


@register.filter(is_safe=True)
def floatformat(text: Any, arg: Any = -1) -> str:
    """Django's floatformat with at most DIGITS_MAX decimal places ('g' and 'u' suffixes kept)."""
    match = re.fullmatch(r"(-?)(\d+)([gu]*)", str(arg))
    if match:
        digits = min(int(match.group(2)), DIGITS_MAX)
        arg = f"{match.group(1)}{digits}{match.group(3)}"
    return defaultfilters.floatformat(text, arg)


_FORMAT_WIDTH_RE = re.compile(r"\d+")


@register.filter(is_safe=True)
def stringformat(value: Any, arg: Any) -> str:
    """Django's stringformat, refusing widths or precisions above WIDTH_MAX."""
    if any(int(number) > WIDTH_MAX for number in _FORMAT_WIDTH_RE.findall(str(arg))):
        return ""
    return defaultfilters.stringformat(value, arg)
