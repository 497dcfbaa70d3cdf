"""Rewrites links in outgoing HTML to signed click-tracking URLs and adds the open pixel.

Interface used by campaigns/rendering.py: `html_add_tracking(html, message_id=...)`.

Every http(s) `<a href>` becomes `{SITE_URL}/c/<token>` where the token signs
(message id, TrackedUrl id): the target is read from the database on click, so a changed
token cannot redirect anywhere else. Not rewritten: mailto:/tel:/#anchors, the unsubscribe
link (`{SITE_URL}/u/…`), links already pointing at our tracking, and links marked
`data-no-track` (the attribute is removed). Before `</body>` go a hidden honeypot link,
which only machines follow, and the 1×1 open pixel.

URL ids come from a per-process cache, so rendering the same template again costs no query.
New link rows are written at render time: render outside any transaction that could roll
back after the mail is sent (the sending engine renders in autocommit).
"""

from __future__ import annotations

import hashlib
import html as html_lib
import re

from django.conf import settings
from django.db import transaction

from tracking.models import TrackedUrl
from tracking.tokens import make_token

CLICK_PURPOSE = "click"
OPEN_PURPOSE = "open"
HONEYPOT_PURPOSE = "trap"

_A_TAG = re.compile(r"""<a\b(?:[^>"']|"[^"]*"|'[^']*')*>""", re.IGNORECASE)
_HREF = re.compile(r"""(\shref\s*=\s*)(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""", re.IGNORECASE)
_NO_TRACK = re.compile(r"""\sdata-no-track(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'>]+))?""", re.IGNORECASE)
_BODY_END = re.compile(r"</body\s*>", re.IGNORECASE)

_CACHE_MAX = 20_000
_url_ids: dict[str, int] = {}


def url_hash(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8", "surrogatepass")).hexdigest()


def _remember(found: dict[str, int]) -> None:
    if len(_url_ids) + len(found) > _CACHE_MAX:
        _url_ids.clear()
    _url_ids.update(found)


def tracked_url_ids(urls: list[str]) -> dict[str, int]:
    """The TrackedUrl id of each URL, creating missing rows (0 queries when all are cached)."""
    result = {url: _url_ids[url] for url in urls if url in _url_ids}
    missing = {url_hash(url): url for url in urls if url not in result}
    if not missing:
        return result
    found = dict(TrackedUrl.objects.filter(url_hash__in=list(missing)).values_list("url_hash", "id"))
    absent = [TrackedUrl(url_hash=h, url=u) for h, u in missing.items() if h not in found]
    if absent:
        TrackedUrl.objects.bulk_create(absent, ignore_conflicts=True)
        created = TrackedUrl.objects.filter(url_hash__in=[row.url_hash for row in absent])
        found.update(created.values_list("url_hash", "id"))
    fresh = {missing[h]: pk for h, pk in found.items()}
    result.update(fresh)
    # Cache only what a committed transaction made visible: a rolled-back row must not be reused.
    transaction.on_commit(lambda: _remember(fresh))
    return result


def tracked_url_cache_clear() -> None:
    _url_ids.clear()


def click_url(message_id: int, url_id: int) -> str:
    return f"{settings.SITE_URL}/c/{make_token(CLICK_PURPOSE, message_id, url_id)}"


def open_pixel_url(message_id: int) -> str:
    return f"{settings.SITE_URL}/o/{make_token(OPEN_PURPOSE, message_id)}.gif"


def honeypot_url(message_id: int) -> str:
    return f"{settings.SITE_URL}/c/{make_token(HONEYPOT_PURPOSE, message_id)}"


def _is_trackable(url: str) -> bool:
    lowered = url.lower()
    if not lowered.startswith(("http://", "https://")):
        return False
    site = settings.SITE_URL.lower()
    return not lowered.startswith((f"{site}/u/", f"{site}/c/", f"{site}/o/"))


def _href_value(match: re.Match[str]) -> str:
    raw = next(group for group in match.groups()[1:] if group is not None)
    return html_lib.unescape(raw).strip()


def html_add_tracking(html: str, *, message_id: int) -> str:
    tags = []  # (start, end, tag text, href match or None, url)
    for tag_match in _A_TAG.finditer(html):
        tag = tag_match.group(0)
        if _NO_TRACK.search(tag):
            tags.append((tag_match.start(), tag_match.end(), _NO_TRACK.sub("", tag), None, ""))
            continue
        href = _HREF.search(tag)
        if href is None:
            continue
        url = _href_value(href)
        if _is_trackable(url):
            tags.append((tag_match.start(), tag_match.end(), tag, href, url))
    ids = tracked_url_ids(sorted({url for *_rest, url in tags if url}))

    parts: list[str] = []
    position = 0
    for start, end, tag, href, url in tags:
        parts.append(html[position:start])
        if href is not None:
            tracked = click_url(message_id, ids[url])
            tag = f'{tag[: href.start()]}{href.group(1)}"{tracked}"{tag[href.end() :]}'
        parts.append(tag)
        position = end
    parts.append(html[position:])
    rewritten = "".join(parts)

    extras = (
        f'<a href="{honeypot_url(message_id)}" aria-hidden="true" tabindex="-1" '
        'style="display:none;font-size:0;line-height:0;max-height:0;overflow:hidden;mso-hide:all">&#8203;</a>'
        f'<img src="{open_pixel_url(message_id)}" width="1" height="1" alt="" '
        'style="display:block;width:1px;height:1px;border:0;margin:0;padding:0">'
    )
    body_ends = list(_BODY_END.finditer(rewritten))
    if not body_ends:
        return rewritten + extras
    cut = body_ends[-1].start()
    return rewritten[:cut] + extras + rewritten[cut:]
