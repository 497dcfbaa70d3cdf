"""Response shapes of the event API (the request shapes live with the event services)."""

from __future__ import annotations

from typing import Literal

from ninja import Schema


class EventErrorOut(Schema):
    field: str
    message: str


class EventResultOut(Schema):
    id: str | None
    status: Literal["accepted", "duplicate", "rejected"]
    errors: list[EventErrorOut]


class BatchOut(Schema):
    results: list[EventResultOut]
    accepted: int
    duplicates: int
    rejected: int


class ErrorOut(Schema):
    detail: str
