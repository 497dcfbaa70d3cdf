"""The cases `bench/run.py` runs: each runs one bench script and turns its figures into report rows."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.report import Row

ROOT = Path(__file__).resolve().parent.parent
MB = "MB"


@dataclass(frozen=True)
class Sizes:
    send_messages: int
    memory_recipients: tuple[int, int]
    memory_batches: int
    tracking_seconds: int
    tracking_messages: int
    customers: int
    orders: int
    activities: int
    carts: int
    render_recipients: int
    render_compiles: int


QUICK = Sizes(3_000, (3_000, 30_000), 5, 2, 500, 10_000, 100_000, 200_000, 2_000, 500, 5)
FULL = Sizes(100_000, (100_000, 1_000_000), 10, 5, 2_000, 100_000, 1_000_000, 2_000_000, 5_000, 2_000, 20)


TRACKING_ROUNDS = 3  # the tracking targets take turns this many times; the median is reported


class Skipped(Exception):
    """The case cannot run here (a tool is missing); the message says why."""


@dataclass
class Context:
    sizes: Sizes
    database_url: str
    redis_url: str
    log_dir: Path

    def script(self, name: str, *args: object, extra_env: dict | None = None, timeout: int = 7200) -> dict:
        """Run bench/<name>.py with --json; return its figures. Output goes to <log_dir>/<name>.log."""
        out = Path(tempfile.mkstemp(prefix=f"{name}-", suffix=".json")[1])
        env = {**os.environ, "DATABASE_URL": self.database_url, "BENCH_DATABASE_URL": self.database_url}
        env |= {"REDIS_URL": self.redis_url, "LOG_LEVEL": "WARNING", **(extra_env or {})}
        command = [sys.executable, str(ROOT / "bench" / f"{name}.py"), *map(str, args), "--json", str(out)]
        log = self.log_dir / f"{name}.log"
        with log.open("a") as handle:
            handle.write("$ " + " ".join(command[1:]) + "\n")
            handle.flush()
            done = subprocess.run(command, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT, timeout=timeout)
        try:
            if done.returncode != 0:
                tail = log.read_text().strip().splitlines()[-5:]
                raise RuntimeError(f"bench/{name}.py exited with {done.returncode}: " + " / ".join(tail))
            return json.loads(out.read_text())
        finally:
            out.unlink(missing_ok=True)


def send(ctx: Context) -> tuple[list[Row], dict]:
    n = ctx.sizes.send_messages
    ours = ctx.script("send_throughput", "--messages", n)
    peer = ctx.script("send_postoffice", "--messages", n)
    e2e, ceiling, post_office = n / ours["end_to_end_s"], n / ours["ceiling_s"], n / peer["post_office_s"]
    case = f"send {n:,}"
    rows = [
        Row(case, "end to end vs bare anymail loop", e2e, ceiling, "msg/s", "ceiling", at_least=0.6),
        Row(case, "end to end vs django-post-office", e2e, post_office, "msg/s", "post_office", at_least=1.0),
    ]
    return rows, {"ours": ours, "post_office": peer}


def send_memory(ctx: Context) -> tuple[list[Row], dict]:
    small_n, large_n = ctx.sizes.memory_recipients
    batches = ctx.sizes.memory_batches
    figures = ctx.script("send_memory", "--recipients", small_n, large_n, "--batches", batches)
    small, large = figures["sizes"]
    case = f"memory {large_n:,} vs {small_n:,}"
    window = f"worker sent {batches} batches from the full queue (not all of it)"
    rows = [
        Row(case, "planner peak RSS", large["plan"]["peak_rss_mb"], small["plan"]["peak_rss_mb"], MB,
            f"{small_n:,}", at_most=1.1, note=f"planned all {large_n:,}"),
        Row(case, "send worker peak RSS", large["send"]["peak_rss_mb"], small["send"]["peak_rss_mb"], MB,
            f"{small_n:,}", at_most=1.1, note=window),
    ]  # fmt: skip
    return rows, figures


def tracking(ctx: Context) -> tuple[list[Row], dict]:
    if not shutil.which("wrk"):
        raise Skipped("wrk is not installed (apt-get install -y wrk)")
    sizes = ctx.sizes
    report = ctx.script(
        "tracking_load", "--duration", sizes.tracking_seconds, "--rounds", TRACKING_ROUNDS,
        "--messages", sizes.tracking_messages, "--workers", 2, "--connections", 32, "--redis-url", ctx.redis_url,
    )  # fmt: skip
    rows = []
    for mode, results in report["modes"].items():
        case = f"tracking ({'Redis buffer' if mode == 'redis' else 'direct insert'})"
        trivial = results["trivial"]
        for kind in ("open", "click"):
            hit = results[kind]
            rows += [
                Row(case, f"{kind} req/s vs trivial view", hit["rps"], trivial["rps"], "req/s", "trivial",
                    at_least=0.5, note=f"median of {TRACKING_ROUNDS} rounds; per round: {_round_ratios(hit, trivial)}"),
                Row(case, f"{kind} p99 vs trivial view", hit["p99_ms"], trivial["p99_ms"], "ms", "trivial"),
                Row(case, f"{kind} events recorded vs served", hit["events_recorded"], hit["served"], "events",
                    "requests", at_least=1.0, at_most=1.0, note=f"wrk errors: {hit['errors']}"),
            ]  # fmt: skip
    return rows, report


def _round_ratios(hit: dict, trivial: dict) -> str:
    pairs = zip(hit.get("rounds_rps", []), trivial.get("rounds_rps", []), strict=False)
    return " ".join(f"{ours / base:.2f}" for ours, base in pairs if base)


def scheduler(ctx: Context) -> tuple[list[Row], dict]:
    s = ctx.sizes
    figures = ctx.script(
        "scheduler_tick", "--customers", s.customers, "--orders", s.orders, "--activities", s.activities,
        "--carts", s.carts,
    )  # fmt: skip
    case = f"scheduler {s.customers // 1000}k/{s.orders // 1000}k/{s.activities // 1000}k"
    bare = "hand SQL"
    rows = [
        Row(case, "segment count vs hand-written SQL count", figures["segment_count_s"], figures["segment_bare_s"],
            "s", bare, at_most=2.0, note=f"{figures['segment_size']:,} customers"),
        Row(case, "idle tick vs its reads in hand-written SQL", figures["tick_idle_s"], figures["tick_bare_s"], "s",
            bare, at_most=2.0, note="the per-minute tick"),
        Row(case, "first tick (mass enrolment + messages)", figures["tick_first_s"], figures["tick_bare_s"], "s",
            bare, note="writes rows; baseline only reads"),
    ]  # fmt: skip
    return rows, figures


def metrics(ctx: Context) -> tuple[list[Row], dict]:
    s = ctx.sizes
    figures = ctx.script("customer_metrics", "--customers", s.customers, "--orders", s.orders)
    case = f"metrics {s.customers // 1000}k/{s.orders // 1000}k"
    bare = "bare aggregate"
    rows = []
    if "bare_write_s" in figures:
        shares = f"{figures['in_place_share']:.0%} / {figures['bare_in_place_share']:.0%}"
        note = f"same 16 columns and rows; updated in place {shares}"
        rows.append(Row(case, "nightly metrics vs aggregate + UPDATE in hand SQL", figures["nightly_s"],
                        figures["bare_write_s"], "s", "hand SQL", at_most=2.0, note=note))  # fmt: skip
    rows += [
        Row(case, "nightly metrics vs read-only SQL aggregate", figures["nightly_s"], figures["bare_s"], "s", bare,
            note="the aggregate writes nothing; the metrics write every buyer's row"),
        Row(case, "first run (every customer changes)", figures["runs_s"][0], figures["bare_s"], "s", bare),
        Row(case, "compute before writing vs aggregate", figures["before_write_s"], figures["bare_s"], "s", bare),
    ]  # fmt: skip
    return rows, figures


def render(ctx: Context) -> tuple[list[Row], dict]:
    s = ctx.sizes
    figures = ctx.script("render", "--recipients", s.render_recipients, "--compiles", s.render_compiles)
    templates = figures["templates"]
    render_ms = statistics.median(t["render_ms"] for t in templates)
    compile_ms = statistics.median(t["compile_ms"] for t in templates)
    worst = max(templates, key=lambda t: t["render_ms"] / t["compile_ms"])
    case = f"render ({len(templates)} starters)"
    rows = [
        Row(case, "per-recipient render vs MJML compile (median)", render_ms, compile_ms, "ms", "compile"),
        Row(case, f"slowest: {worst['template'][:28]}", worst["render_ms"], worst["compile_ms"], "ms", "compile"),
    ]
    return rows, figures


CASES = {
    "render": render,
    "scheduler": scheduler,
    "metrics": metrics,
    "tracking": tracking,
    "send": send,
    "send_memory": send_memory,
}
