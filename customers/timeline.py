"""A customer's timeline: what they did and what they received, newest first, from every app.

Customers sits at the bottom of the apps, so it cannot read messages, journeys or tracking
itself. Each app registers a source from its AppConfig.ready(); a source returns typed
entries for one customer. References such as ``message:12`` in a consent change's detail are
turned into links by resolvers the owning app registers, one query per page for all of them.

A page asks every source for at most `limit + skip + 1` entries up to a moment, merges them
and cuts: bounded queries whatever the customer's history, never one query per row.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.utils.dateparse import parse_datetime

PAGE_SIZE = 50

KIND_LABELS = {
    "message": "Email",
    "open": "Open",
    "click": "Click",
    "esp": "Delivery",
    "order": "Order",
    "activity": "On the shop",
    "consent": "Subscription",
    "journey": "Journey",
}
# At the same moment, what the shop reported comes before what it set off (the cart, then the journey).
_RANK = {"activity": 0, "consent": 1, "order": 2, "journey": 3, "message": 4, "esp": 5, "open": 6, "click": 7}


@dataclass(frozen=True)
class TimelineLink:
    label: str
    url: str
    external: bool = False  # a page outside the admin (the link a customer clicked)


@dataclass(frozen=True)
class TimelineEntry:
    when: datetime
    kind: str
    title: str
    detail: str = ""
    links: tuple[TimelineLink, ...] = ()
    verdict: str = ""  # opens and clicks: who made the hit, in words
    counts_as_human: bool | None = None
    references: tuple[str, ...] = ()  # "message:12": resolved into links when the page is built
    key: int = 0  # the row's id: a stable order among entries of one kind at the same moment

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind.replace("_", " ").capitalize())

    def sort_key(self) -> tuple:
        return (self.when, _RANK.get(self.kind, len(_RANK)), self.kind, self.key)


# (customer_id, until: entries at or before it, None = no bound; limit) -> the newest `limit` such entries.
TimelineSource = Callable[[int, datetime | None, int], Iterable[TimelineEntry]]
# ids -> link per id, for the references of one kind ("message" in "message:12").
ReferenceResolver = Callable[[set[int]], dict[int, TimelineLink]]

_sources: dict[str, TimelineSource] = {}
_resolvers: dict[str, ReferenceResolver] = {}
_REFERENCE = re.compile(r"^([a-z_]+):(\d+)$")


def register_timeline_source(name: str, source: TimelineSource) -> None:
    """Add (or replace, by name) a source of entries. Call from AppConfig.ready()."""
    _sources[name] = source


def register_timeline_reference(kind: str, resolver: ReferenceResolver) -> None:
    _resolvers[kind] = resolver


def timeline_sources() -> dict[str, TimelineSource]:
    return dict(_sources)


def reference_of(text: str) -> str | None:
    """The reference in a detail such as "message:12", when some app can resolve it; else None."""
    match = _REFERENCE.match(text or "")
    return match.group(0) if match and match.group(1) in _resolvers else None


def references_resolve(references: Iterable[str]) -> dict[str, TimelineLink]:
    wanted: dict[str, set[int]] = defaultdict(set)
    for reference in references:
        match = _REFERENCE.match(reference)
        if match and match.group(1) in _resolvers:
            wanted[match.group(1)].add(int(match.group(2)))
    links: dict[str, TimelineLink] = {}
    for kind, ids in wanted.items():
        for pk, link in _resolvers[kind](ids).items():
            links[f"{kind}:{pk}"] = link
    return links


@dataclass(frozen=True)
class TimelineCursor:
    """Where an older page starts: entries at or before `until`, less the `skip` already shown at `until`."""

    until: datetime
    skip: int = 0

    def token(self) -> str:
        return f"{self.until.isoformat()}~{self.skip}"

    @classmethod
    def parse(cls, token: str | None) -> TimelineCursor | None:
        moment, _, skip = (token or "").partition("~")
        until = parse_datetime(moment) if moment else None
        if until is None or until.tzinfo is None or not skip.isdigit():
            return None
        return cls(until=until, skip=min(int(skip), 10_000))


@dataclass
class TimelinePage:
    entries: list[TimelineEntry]
    older: TimelineCursor | None
    links: dict[str, TimelineLink] = field(default_factory=dict)

    def rows(self) -> list[tuple[TimelineEntry, tuple[TimelineLink, ...]]]:
        """Each entry with its own links followed by those of its resolved references."""
        return [
            (entry, entry.links + tuple(self.links[r] for r in entry.references if r in self.links))
            for entry in self.entries
        ]


def customer_timeline(
    *, customer_id: int, cursor: TimelineCursor | None = None, limit: int = PAGE_SIZE
) -> TimelinePage:
    until, skip = (cursor.until, cursor.skip) if cursor else (None, 0)
    wanted = limit + skip + 1
    entries: list[TimelineEntry] = []
    for source in _sources.values():
        entries.extend(entry for entry in source(customer_id, until, wanted) if until is None or entry.when <= until)
    entries.sort(key=TimelineEntry.sort_key, reverse=True)
    entries = entries[skip:]
    page, more = entries[:limit], len(entries) > limit
    older = None
    if more and page:
        last = page[-1].when
        shown_at_last = sum(1 for entry in page if entry.when == last) + (skip if last == until else 0)
        older = TimelineCursor(until=last, skip=shown_at_last)
    links = references_resolve(r for entry in page for r in entry.references)
    return TimelinePage(entries=page, older=older, links=links)
