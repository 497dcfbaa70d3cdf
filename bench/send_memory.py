"""Peak RSS of the planner and of the send worker: a small list beside a list ten times larger.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/<scratch> \
        .venv/bin/python bench/send_memory.py --recipients 100000 1000000 --batches 10

For each list size: the scratch database is emptied, the customers are inserted in SQL, then
a fresh process plans the one-off campaign to all of them (message_plan_one_off) and another
fresh process runs the sender (message_send_batch, anymail Postmark backend, fake ESP) for
--batches batches taken from the full queue. Each process reports its own peak RSS
(getrusage ru_maxrss). Sending the whole of a 1M list would take over an hour at the ESP's
latency, so the worker's figure comes from a bounded window of the queue: memory that grew
with the queue (an unbounded query, a cache keyed by message) still shows in that window.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.send_throughput import EspProcess, configure, seed  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, nargs="+", default=[3000, 30000])
    parser.add_argument("--batches", type=int, default=5, help="Batches the worker sends from the full queue.")
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=200)
    parser.add_argument("--phase", choices=["plan", "send"], help=argparse.SUPPRESS)
    parser.add_argument("--campaign", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--json", help="Also write the figures to this JSON file (for bench/run.py).")
    return parser.parse_args()


def phase(args: argparse.Namespace) -> None:
    """Runs in a fresh process (the environment was set by the parent); prints its figures."""
    import django

    django.setup()
    with open("/proc/self/status", encoding="ascii") as status:  # the peak so far: imports and setup
        setup_mb = int(next(line for line in status if line.startswith("VmHWM")).split()[1]) / 1024
    from campaigns.models import Campaign
    from campaigns.services.sending import message_plan_one_off
    from campaigns.services.sending.delivery import message_send_batch

    started = time.perf_counter()
    if args.phase == "plan":
        done = message_plan_one_off(campaign=Campaign.objects.get(pk=args.campaign))
    else:
        done = sum(message_send_batch().get("sent", 0) for _ in range(args.batches))
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    figures = {"done": done, "seconds": seconds, "peak_rss_mb": round(peak_mb, 1), "setup_rss_mb": round(setup_mb, 1)}
    print(json.dumps(figures))


def run_phase(name: str, campaign_id: int, args: argparse.Namespace) -> dict:
    command = [sys.executable, __file__, "--phase", name, "--campaign", str(campaign_id)]
    command += ["--batches", str(args.batches)]
    output = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False, env=os.environ)
    if output.returncode != 0:
        raise RuntimeError(f"{name} phase failed: {output.stderr.strip()[-2000:]}")
    return json.loads(output.stdout.strip().splitlines()[-1])


def measure(size: int, args: argparse.Namespace, esp_url: str, scratch: str) -> dict:
    configure(args, esp_url, scratch)  # migrates and empties the scratch database
    from bench.customer_metrics import insert_customers

    insert_customers(size)
    campaign = seed(0)
    from django.db import connection

    connection.close()
    plan = run_phase("plan", campaign.pk, args)
    assert plan["done"] == size, plan
    send = run_phase("send", campaign.pk, args)
    assert send["done"] == args.batches * args.batch_size, send
    return {"recipients": size, "plan": plan, "send": send}


def main() -> None:
    args = parse_args()
    if args.phase:
        phase(args)
        return
    if not os.environ.get("BENCH_DATABASE_URL", "").startswith("postgres"):
        sys.exit("bench: set BENCH_DATABASE_URL to a scratch PostgreSQL database (it is emptied)")
    esp = EspProcess(args.latency_ms)
    try:
        with tempfile.TemporaryDirectory() as scratch:
            results = [measure(size, args, esp.url, scratch) for size in args.recipients]
    finally:
        esp.stop()
    for result in results:
        print(
            f"{result['recipients']:>9} recipients (RSS after setup {result['send']['setup_rss_mb']:.1f} MB): "
            f"planner peak RSS {result['plan']['peak_rss_mb']:7.1f} MB "
            f"({result['plan']['seconds']:.1f} s), worker peak RSS {result['send']['peak_rss_mb']:7.1f} MB "
            f"after {args.batches} batches of {args.batch_size} ({result['send']['seconds']:.1f} s)"
        )
    if args.json:
        Path(args.json).write_text(json.dumps({"batches": args.batches, "sizes": results}))


if __name__ == "__main__":
    main()
