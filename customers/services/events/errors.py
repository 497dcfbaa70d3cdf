from __future__ import annotations


class EventRejected(Exception):
    """An event that is well-formed but cannot be applied (e.g. it contradicts stored data)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
