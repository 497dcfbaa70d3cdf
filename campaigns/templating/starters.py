"""The starter templates shipped in templates/emails/ (MJML files listed in starters.json)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

STARTERS_DIR = Path(settings.BASE_DIR) / "templates" / "emails"


@dataclass(frozen=True)
class StarterTemplate:
    name: str
    purpose: str
    subject: str
    preheader: str
    mjml: str


def starter_templates() -> list[StarterTemplate]:
    manifest = json.loads((STARTERS_DIR / "starters.json").read_text(encoding="utf-8"))
    return [
        StarterTemplate(
            name=entry["name"],
            purpose=entry["purpose"],
            subject=entry["subject"],
            preheader=entry["preheader"],
            mjml=(STARTERS_DIR / entry["file"]).read_text(encoding="utf-8"),
        )
        for entry in manifest
    ]
