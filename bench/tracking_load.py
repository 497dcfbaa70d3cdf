"""Open pixel and click redirect under load, beside a trivial Django view served the same way.

    python bench/tracking_load.py --duration 5 --rounds 3 --connections 32 --workers 2

gunicorn (sync workers, same count for every target) serves the project with a bench-only
URLconf that adds `/bench/trivial` (a view returning "ok"; it is never in the production
URLs). wrk drives each target on loopback, the three taking turns for a few rounds after a
warm-up; every open/click request uses another message's token. Reported per mode (Redis
buffer, direct database insert): the median requests/s and p99 of the rounds for the trivial
view, the pixel and the redirect, and events recorded vs requests served (the gunicorn access
log counts what was served, warm-up included; the buffer is drained before counting).

Uses a throw-away SQLite database unless BENCH_DATABASE_URL names a scratch database.
The Redis mode runs when --redis-url (default: $REDIS_URL) is given.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from urllib.request import urlopen

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

_LUA = """
local paths = {}
for line in io.lines("%(paths)s") do paths[#paths + 1] = line end
local counter = 0
function setup(thread) thread:set("offset", math.random(1, #paths)) end
function request()
  counter = counter + 1
  local headers = {["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64) bench"}
  return wrk.format("GET", paths[((offset + counter) %% #paths) + 1], headers)
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('\\nBENCH {"requests": %%d, "rps": %%.1f, "p50_ms": %%.2f, "p99_ms": %%.2f, "errors": %%d}\\n',
    summary.requests, summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, e.connect + e.read + e.write + e.status + e.timeout))
end
"""


def trivial(request):  # the baseline: Django with the same middleware, no work
    from django.http import HttpResponse

    return HttpResponse(b"ok", content_type="text/plain")


def wsgi_app():
    """gunicorn entry point (`bench.tracking_load:wsgi_app()`): the project plus /bench/trivial."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()
    from django.conf import settings

    settings.ROOT_URLCONF = "bench.tracking_load"
    return application


def __getattr__(name: str):
    """This module is the bench URLconf; its patterns are built once Django is set up."""
    if name != "urlpatterns":
        raise AttributeError(name)
    from django.urls import include, path

    return [path("bench/trivial", trivial), path("", include("config.urls"))]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds per target and round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of trivial, open, click in turn (median)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (same for every target)")
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", ""))
    parser.add_argument("--json", help="Also write the report to this JSON file (for bench/run.py).")
    return parser.parse_args()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare(scratch: Path, messages: int, site: str) -> tuple[Path, Path, list[int]]:
    """Migrate the scratch database, create messages and write the open/click paths for wrk."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from campaigns.models import Message, MessageStatus
    from customers.models import Customer
    from tracking.link_rewriting import click_url, open_pixel_url, tracked_url_ids

    call_command("migrate", verbosity=0)
    customers = Customer.objects.bulk_create(
        [Customer(email=f"bench{i}-{uuid.uuid4().hex[:6]}@example.test") for i in range(messages)]
    )
    sent = timezone.now()
    rows = Message.objects.bulk_create(
        [Message(customer=c, status=MessageStatus.SENT, sent_at=sent, delivered_at=sent) for c in customers]
    )
    url_id = tracked_url_ids(["https://shop.example/bench"])["https://shop.example/bench"]
    opens, clicks = scratch / "opens.txt", scratch / "clicks.txt"
    opens.write_text("\n".join(open_pixel_url(m.pk).removeprefix(site) for m in rows) + "\n")
    clicks.write_text("\n".join(click_url(m.pk, url_id).removeprefix(site) for m in rows) + "\n")
    return opens, clicks, [m.pk for m in rows]


def run_wrk(args: argparse.Namespace, scratch: Path, port: int, paths: Path, seconds: int) -> dict:
    script = scratch / f"{paths.stem}.lua"
    script.write_text(_LUA % {"paths": paths})
    command = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{seconds}s", "-s", str(script)]
    output = subprocess.run([*command, f"http://127.0.0.1:{port}/"], capture_output=True, text=True, check=True)
    return json.loads(re.search(r"BENCH (\{.*\})", output.stdout).group(1))


def serve_and_measure(args, scratch: Path, env: dict, targets: dict[str, Path], mode: str) -> dict:
    port = free_port()
    log = scratch / f"access-{mode}.log"
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "bench.tracking_load:wsgi_app()", "-b", f"127.0.0.1:{port}",
         "-w", str(args.workers), "--access-logfile", str(log), "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    try:
        for _ in range(100):
            try:
                urlopen(f"http://127.0.0.1:{port}/bench/trivial", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        for path in targets.values():  # warm-up: imports, URL resolver, caches, connections
            run_wrk(args, scratch, port, path, 1)
        # Targets take turns, round after round, so drift on a shared machine (the database's
        # background work, the other processes) falls on all of them alike.
        rounds = [{name: run_wrk(args, scratch, port, path, args.duration) for name, path in targets.items()}
                  for _ in range(max(1, args.rounds))]  # fmt: skip
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    results = {name: _median_of(run[name] for run in rounds) for name in targets}
    lines = log.read_text().splitlines()
    for name, prefix in (("open", '"GET /o/'), ("click", '"GET /c/')):
        results[name]["served"] = sum(1 for line in lines if prefix in line)
    return results


def _median_of(runs: Iterable[dict]) -> dict:
    """One target's rounds: the median rate and latencies, the summed counts, and every round's rate."""
    runs = list(runs)
    figures = {key: statistics.median(run[key] for run in runs) for key in ("rps", "p50_ms", "p99_ms")}
    return {**figures, "requests": sum(r["requests"] for r in runs), "errors": sum(r["errors"] for r in runs),
            "rounds_rps": [r["rps"] for r in runs]}  # fmt: skip


def count_events(mode: str, key: str, message_ids: list[int]) -> dict[str, int]:
    from django.conf import settings

    from tracking.models import TrackingEvent
    from tracking.services.tracking_events import tracking_buffer_drain

    if mode == "redis":
        settings.TRACKING_BUFFER, settings.TRACKING_BUFFER_KEY = True, key
        while tracking_buffer_drain() > 0:
            pass
    events = TrackingEvent.objects.filter(message_id__in=message_ids)
    counts = {kind: events.filter(kind=kind).count() for kind in ("open", "click")}
    events.delete()
    return counts


def main() -> None:
    args = parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (apt-get install wrk)")
    scratch = Path(tempfile.mkdtemp(prefix="tracking-bench-"))
    site = "http://127.0.0.1:8000"
    database = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{scratch}/bench.sqlite3"
    os.environ.update(
        DJANGO_SETTINGS_MODULE="config.settings", DATABASE_URL=database, VAR_DIR=str(scratch), SITE_URL=site,
        LOG_LEVEL="WARNING", REDIS_URL=args.redis_url,
    )  # fmt: skip
    opens, clicks, message_ids = prepare(scratch, args.messages, site)
    targets = {"trivial": scratch / "trivial.txt", "open": opens, "click": clicks}
    targets["trivial"].write_text("/bench/trivial\n")
    modes = (["redis"] if args.redis_url else []) + ["direct"]
    report = {"workers": args.workers, "connections": args.connections, "duration_s": args.duration,
              "rounds": args.rounds, "modes": {}}  # fmt: skip
    for mode in modes:
        key = f"bench:tracking:{uuid.uuid4().hex}"
        env = {**os.environ, "TRACKING_BUFFER": "1" if mode == "redis" else "0", "TRACKING_BUFFER_KEY": key}
        results = serve_and_measure(args, scratch, env, targets, mode)
        recorded = count_events(mode, key, message_ids)
        for kind in ("open", "click"):
            results[kind]["events_recorded"] = recorded[kind]
            results[kind]["rps_vs_trivial"] = round(results[kind]["rps"] / results["trivial"]["rps"], 3)
        report["modes"][mode] = results
    print(json.dumps(report, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(report))
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
