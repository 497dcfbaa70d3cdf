"""What `bench/run.py` reports: rows of ours vs baseline as a ratio, judged against a target.

A row's ratio is ours / baseline in the unit the row names. Whether a higher ratio is better
depends on the unit: for rates (msg/s, req/s) the target is a minimum share of the baseline;
for durations (seconds, ms) the target is a maximum multiple of it.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

PASS, MISS, INFO = "PASS", "MISS", "info"


@dataclass
class Row:
    case: str
    metric: str
    ours: float
    baseline: float
    unit: str
    baseline_name: str
    at_least: float | None = None  # target: ratio >= this (rates)
    at_most: float | None = None  # target: ratio <= this (durations, memory growth)
    note: str = ""
    ratio: float | None = field(default=None)
    status: str = field(default=INFO)

    def __post_init__(self) -> None:
        self.ratio = ratio(self.ours, self.baseline)
        self.status = judge(self.ratio, at_least=self.at_least, at_most=self.at_most)

    @property
    def target(self) -> str:
        if self.at_least is not None and self.at_least == self.at_most:
            return f"= {self.at_least:g}"
        if self.at_least is not None:
            return f">= {self.at_least:g}"
        if self.at_most is not None:
            return f"<= {self.at_most:g}"
        return "-"


def ratio(ours: float, baseline: float) -> float | None:
    if not baseline:
        return None
    return round(ours / baseline, 3)


def judge(value: float | None, *, at_least: float | None = None, at_most: float | None = None) -> str:
    if at_least is None and at_most is None:
        return INFO
    if value is None:
        return MISS
    if at_least is not None and value < at_least:
        return MISS
    if at_most is not None and value > at_most:
        return MISS
    return PASS


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:.2f}"
    return f"{value:.4g}"


def table(rows: list[Row]) -> str:
    """A Markdown table, readable as plain text too."""
    header = ["case", "metric", "ours", "baseline", "unit", "ratio", "target", "result"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        cells = [
            row.case,
            row.metric,
            _fmt(row.ours),
            f"{_fmt(row.baseline)} ({row.baseline_name})",
            row.unit,
            _fmt(row.ratio),
            row.target,
            row.status,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _command_output(command: list[str]) -> str:
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=10, check=False).stdout.strip()
    except OSError:
        return ""


def machine(*, database_url: str, redis_url: str) -> dict:
    """Cores, memory and versions of everything the figures depend on."""
    import django
    import psycopg
    import redis

    with open("/proc/meminfo", encoding="ascii") as meminfo:
        total_kb = int(next(line for line in meminfo if line.startswith("MemTotal")).split()[1])
    with psycopg.connect(database_url.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
        pg_version = conn.execute("SHOW server_version").fetchone()[0]
    redis_version = redis.Redis.from_url(redis_url).info("server")["redis_version"]
    cpu = next(
        (line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo", encoding="ascii") if "model name" in line),
        platform.processor(),
    )
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "cpu": cpu,
        "memory_gb": round(total_kb / 1024 / 1024, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "postgresql": pg_version,
        "redis": redis_version,
        "wrk": _command_output(["wrk", "--version"]).splitlines()[0] if _command_output(["which", "wrk"]) else "",
    }


def render_markdown(*, mode: str, info: dict, rows: list[Row], notes: list[str]) -> str:
    head = (
        f"# Benchmarks ({mode})\n\n"
        f"{info['date']} · {info['cores']} cores ({info['cpu']}) · {info['memory_gb']} GB · "
        f"Python {info['python']} · Django {info['django']} · PostgreSQL {info['postgresql']} · "
        f"Redis {info['redis']}\n\n"
        "ratio = ours / baseline, both measured in this run.\n\n"
    )
    notes = [f"{row.case} · {row.metric}: {row.note}" for row in rows if row.note] + notes
    tail = "\n\n" + "\n".join(f"- {note}" for note in notes) + "\n" if notes else "\n"
    return head + table(rows) + tail


def dump_json(*, mode: str, info: dict, rows: list[Row], raw: dict, notes: list[str]) -> str:
    payload = {
        "mode": mode,
        "machine": info,
        "rows": [{**asdict(row), "target": row.target} for row in rows],
        "raw": raw,
        "notes": notes,
    }
    return json.dumps(payload, indent=2, default=str)
