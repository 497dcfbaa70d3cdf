"""A validation problem found in a template, with where it is."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TemplateProblem:
    field: str  # "mjml", "subject" or "preheader": the form field it belongs to
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        return f"{where}{self.message}"
