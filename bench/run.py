"""Run every benchmark case, ours beside its baseline in the same run, and report the ratios.

    .venv/bin/python bench/run.py            # quick: about a minute or two
    .venv/bin/python bench/run.py --full     # 100k-recipient send, 1M-row memory check, 100k/1M/2M data
    .venv/bin/python bench/run.py --only send tracking

Data is built in BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/remarketing_bench,
created if missing; the send cases empty it, the data cases work in test_<name> and drop it) and
BENCH_REDIS_URL (default redis://127.0.0.1:6379/14). The development database is never used.
Writes bench/results.json and bench/results.md and prints the table; logs go to bench/logs/
(under --output when given).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import cases, report  # noqa: E402

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/remarketing_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="full sizes (takes tens of minutes)")
    parser.add_argument("--only", nargs="+", choices=sorted(cases.CASES), help="run only these cases")
    parser.add_argument("--output", default=str(ROOT / "bench"), help="where results.json/.md go")
    return parser.parse_args()


def database_ensure(url: str) -> None:
    """Create the bench database if it does not exist; refuse the development database."""
    name = urlsplit(url).path.lstrip("/")
    if not url.startswith(("postgres://", "postgresql://")) or not name:
        sys.exit("bench: BENCH_DATABASE_URL must name a PostgreSQL database")
    dev = os.environ.get("DATABASE_URL", "")
    if dev and urlsplit(dev).path.lstrip("/") == name and urlsplit(dev).hostname == urlsplit(url).hostname:
        sys.exit("bench: BENCH_DATABASE_URL is the development database; name a scratch one")
    import psycopg
    from psycopg import sql

    admin = urlsplit(url)._replace(scheme="postgresql", path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"created database {name}")


def main() -> None:
    args = parse_args()
    mode = "full" if args.full else "quick"
    database_url = os.environ.get("BENCH_DATABASE_URL") or DEFAULT_DATABASE_URL
    redis_url = os.environ.get("BENCH_REDIS_URL") or DEFAULT_REDIS_URL
    database_ensure(database_url)
    log_dir = Path(args.output) / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    for old in log_dir.glob("*.log"):
        old.unlink()
    ctx = cases.Context(cases.FULL if args.full else cases.QUICK, database_url, redis_url, log_dir)
    info = report.machine(database_url=database_url, redis_url=redis_url)
    print(f"bench {mode}: {info['cores']} cores, {info['memory_gb']} GB, PostgreSQL {info['postgresql']}, "
          f"Redis {info['redis']}, Python {info['python']}, Django {info['django']}")  # fmt: skip
    rows: list[report.Row] = []
    raw: dict = {"sizes": ctx.sizes.__dict__}
    notes: list[str] = []
    started = time.perf_counter()
    for name, case in cases.CASES.items():
        if args.only and name not in args.only:
            continue
        clock = time.perf_counter()
        print(f"- {name} ...", end=" ", flush=True)
        try:
            case_rows, raw[name] = case(ctx)
        except cases.Skipped as exc:
            notes.append(f"{name}: skipped, {exc}")
            print(f"skipped ({exc})")
            continue
        except Exception as exc:  # one broken case must not lose the others' figures
            notes.append(f"{name}: failed, {exc} (see bench/logs/)")
            print(f"FAILED: {exc}")
            continue
        rows += case_rows
        raw[name + "_seconds"] = round(time.perf_counter() - clock, 1)
        print(f"{time.perf_counter() - clock:.0f} s")
    if "send_memory" in raw and "sizes" in raw["send_memory"]:
        notes.append(
            "memory: the send worker's peak RSS comes from a bounded window of the queue "
            f"({ctx.sizes.memory_batches} batches of 200 from a queue of every recipient); sending all of "
            "1M would take over an hour at the fake ESP's 20 ms latency"
        )
    notes.append(f"total {time.perf_counter() - started:.0f} s; logs in bench/logs/")
    output = Path(args.output)
    markdown = report.render_markdown(mode=mode, info=info, rows=rows, notes=notes)
    (output / "results.md").write_text(markdown)
    (output / "results.json").write_text(report.dump_json(mode=mode, info=info, rows=rows, raw=raw, notes=notes))
    print()
    print(markdown)
    failed = [note for note in notes if ": failed," in note]
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
