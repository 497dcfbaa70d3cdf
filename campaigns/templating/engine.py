"""The Django template engine used for email personalisation, and the per-version parse cache.

Emails get their own engine rather than the project's: no loaders (no `{% include %}` of site
templates), only the tags and filters allowed in campaigns/templating/library.py instead of
Django's built-ins, autoescape on for HTML, and a debug twin used only by validation for line
numbers.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from django.conf import settings
from django.template import Engine, Template, TemplateSyntaxError

from campaigns.templating.text import text_template_source

_OPTIONS = {"dirs": [], "app_dirs": False, "loaders": [], "libraries": {}, "string_if_invalid": ""}


class EmailEngine(Engine):
    default_builtins = ["campaigns.templating.library"]


render_engine = EmailEngine(debug=False, autoescape=True, **_OPTIONS)
# Line numbers in syntax errors need debug=True; used to validate, never to render per recipient.
validation_engine = EmailEngine(debug=True, autoescape=True, **_OPTIONS)


def template_parse(source: str) -> Template:
    return Template(source, engine=render_engine)


def text_template_parse(compiled_html: str) -> Template | None:
    try:
        return template_parse(text_template_source(compiled_html))
    except TemplateSyntaxError:
        return None


@dataclass(frozen=True)
class ParsedVersion:
    subject: Template
    preheader: Template
    html: Template
    text: Template | None  # plain-text part; None: convert each recipient's final HTML instead


CacheKey = tuple[int, int, int, int]


class _LruCache:
    """A small thread-safe LRU of parsed versions."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[CacheKey, ParsedVersion] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: CacheKey) -> ParsedVersion | None:
        with self._lock:
            item = self._items.get(key)
            if item is not None:
                self._items.move_to_end(key)
            return item

    def put(self, key: CacheKey, value: ParsedVersion) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


parsed_versions = _LruCache(getattr(settings, "TEMPLATE_CACHE_SIZE", 256))


def parsed_version_get(*, version_id: int | None, subject: str, preheader: str, compiled_html: str) -> ParsedVersion:
    """Parsed templates for a version: parsed once per process, then served from the LRU.

    Unsaved previews (version_id None) are parsed every time and not cached. The key holds
    the sources' hashes as well as the id, since ids can be reused (a restored database, tests);
    Python caches a string's hash, so this costs nothing per recipient for one version object.
    """
    key = (version_id or 0, hash(subject), hash(preheader), hash(compiled_html))
    if version_id is not None:
        cached = parsed_versions.get(key)
        if cached is not None:
            return cached
    parsed = ParsedVersion(
        subject=template_parse(subject),
        preheader=template_parse(preheader),
        html=template_parse(compiled_html),
        text=text_template_parse(compiled_html),
    )
    if version_id is not None:
        parsed_versions.put(key, parsed)
    return parsed
