"""What the fake ESP has received, and the faults it has been told to inject."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import getaddresses
from typing import Any

INACTIVE = 406
INVALID = 300


@dataclass
class Fault:
    """Answer the next `count` send requests with HTTP `status` (429, 500…) instead of accepting."""

    status: int
    count: int


@dataclass
class EspState:
    latency_ms: float = 0.0
    server_token: str | None = None  # None: any non-empty token is accepted
    faults: list[Fault] = field(default_factory=list)
    recipient_errors: dict[str, int] = field(default_factory=dict)
    # Accept the next `count` messages, then hold the answer this long (client read timeouts).
    hang_next: int = 0
    hang_seconds: float = 0.0
    messages: list[dict[str, Any]] = field(default_factory=list)
    recipients: Counter = field(default_factory=Counter)
    requests: int = 0
    errors: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self.lock:
            self.faults.clear()
            self.recipient_errors.clear()
            self.hang_next = 0
            self.hang_seconds = 0.0
            self.messages.clear()
            self.recipients.clear()
            self.requests = 0
            self.errors.clear()

    def configure(self, options: dict[str, Any]) -> None:
        """Apply a control request: latency, faults, per-recipient errors, hangs."""
        with self.lock:
            if "latency_ms" in options:
                self.latency_ms = float(options["latency_ms"])
            if "fail_next" in options:
                rule = options["fail_next"]
                self.faults.append(Fault(status=int(rule.get("status", 500)), count=int(rule.get("count", 1))))
            if "clear_faults" in options:
                self.faults.clear()
            for address, code in (options.get("recipient_errors") or {}).items():
                if code:
                    self.recipient_errors[address.strip().lower()] = int(code)
                else:
                    self.recipient_errors.pop(address.strip().lower(), None)
            if "hang_next" in options:
                rule = options["hang_next"]
                self.hang_next = int(rule.get("count", 1))
                self.hang_seconds = float(rule.get("seconds", 5))

    def take_fault(self) -> int | None:
        """The HTTP status to fail this request with, consuming one injected fault."""
        with self.lock:
            self.requests += 1
            while self.faults and self.faults[0].count <= 0:
                self.faults.pop(0)
            if not self.faults:
                return None
            self.faults[0].count -= 1
            self.errors[str(self.faults[0].status)] += 1
            return self.faults[0].status

    def take_hang(self) -> float:
        with self.lock:
            if self.hang_next <= 0:
                return 0.0
            self.hang_next -= 1
            return self.hang_seconds

    def recipient_error(self, addresses: list[str]) -> tuple[int, list[str]] | None:
        with self.lock:
            bad = [a for a in addresses if a in self.recipient_errors]
            if not bad:
                return None
            code = self.recipient_errors[bad[0]]
            self.errors[str(code)] += 1
            return code, [a for a in bad if self.recipient_errors[a] == code]

    def record(self, data: dict[str, Any], *, endpoint: str, request_headers: dict[str, str]) -> dict[str, Any]:
        """Keep an accepted message and count its recipients."""
        to = addresses_of(data.get("To", ""))
        cc = addresses_of(data.get("Cc", "")) + addresses_of(data.get("Bcc", ""))
        entry = {
            "MessageID": str(uuid.uuid4()),
            "SubmittedAt": datetime.now(UTC).isoformat(),
            "endpoint": endpoint,
            "request_headers": request_headers,
            "From": data.get("From", ""),
            "To": data.get("To", ""),
            "Cc": data.get("Cc", ""),
            "Bcc": data.get("Bcc", ""),
            "recipients": to + cc,
            "Subject": data.get("Subject", ""),
            "HtmlBody": data.get("HtmlBody", ""),
            "TextBody": data.get("TextBody", ""),
            "Headers": {h.get("Name", ""): h.get("Value", "") for h in data.get("Headers") or []},
            "Metadata": data.get("Metadata") or {},
            "Tag": data.get("Tag", ""),
            "MessageStream": data.get("MessageStream", "outbound"),
        }
        with self.lock:
            self.messages.append(entry)
            for address in entry["recipients"]:
                self.recipients[address] += 1
        return entry

    def stats(self) -> dict[str, Any]:
        with self.lock:
            return {
                "requests": self.requests,
                "accepted": len(self.messages),
                "recipients": dict(self.recipients),
                "errors": dict(self.errors),
                "latency_ms": self.latency_ms,
                "pending_faults": sum(f.count for f in self.faults),
            }

    def snapshot(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.messages)

    def find(self, message_id: str) -> dict[str, Any] | None:
        with self.lock:
            return next((m for m in self.messages if m["MessageID"] == message_id), None)

    def search(self, metadata: dict[str, str], *, recipient: str = "") -> list[dict[str, Any]]:
        with self.lock:
            found = [
                m
                for m in self.messages
                if all(str(m["Metadata"].get(k)) == v for k, v in metadata.items())
                and (not recipient or recipient.lower() in m["recipients"])
            ]
        return found


def addresses_of(header: str) -> list[str]:
    if not header:
        return []
    return [addr.strip().lower() for _name, addr in getaddresses([header]) if addr]
