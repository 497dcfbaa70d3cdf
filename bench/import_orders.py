"""Benchmark: `import_orders` on a small and a large CSV; memory must stay flat.

Generates order-line CSVs in a temporary directory (deleted afterwards), imports each with
`/usr/bin/time -v python manage.py import_orders`, and prints lines/s and peak RSS, plus the
ratio of the large run's peak RSS to the small one's (about 1.0 means bounded memory).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_import .venv/bin/python bench/import_orders.py

DATABASE_URL must point at a scratch database: it is migrated and the imported rows stay.
Order ids are unique per run, so every run inserts; customers and products are shared.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEADER = ["order_id", "customer_external_id", "email", "placed_at", "total", "currency"]
HEADER += ["sku", "product_name", "category", "quantity", "unit_price"]
CATEGORIES = ["Apparel", "Shoes", "Bags", "Home", "Beauty", "Outdoor", "Kids", "Premium"]


def write_csv(path: Path, *, lines: int, run: str, customers: int, products: int, seed: int) -> None:
    """Orders of 1-4 lines each, adjacent rows, customers known by external id and email."""
    rng = random.Random(seed)
    start = datetime(2022, 1, 1, tzinfo=UTC)
    written = order_no = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(HEADER)
        while written < lines:
            order_no += 1
            n_lines = min(rng.randint(1, 4), lines - written)
            who = rng.randrange(customers)
            placed = (start + timedelta(minutes=rng.randrange(1_500_000))).isoformat()
            items = []
            for _ in range(n_lines):
                sku = rng.randrange(products)
                items.append((f"SKU-{sku:05d}", rng.randint(1, 3), f"{5 + sku % 95}.{sku % 100:02d}"))
            total = sum(q * float(p) for _, q, p in items)
            for sku, quantity, price in dict((item[0], item) for item in items).values():
                out.writerow(
                    [
                        f"{run}-{order_no}",
                        f"cust-{who}",
                        f"customer{who}@bench.example",
                        placed,
                        f"{total:.2f}",
                        "EUR",
                        sku,
                        f"Product {sku}",
                        CATEGORIES[int(sku[4:]) % len(CATEGORIES)],
                        quantity,
                        price,
                    ]
                )
                written += 1


def run_import(path: Path, env: dict[str, str]) -> tuple[float, float, int, str]:
    """Wall seconds, CPU seconds of the import process, peak RSS in KiB, and its summary line."""
    cmd = ["/usr/bin/time", "-v", sys.executable, "manage.py", "import_orders", str(path), "--no-progress"]
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit(f"import failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr[-3000:]}")
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr).group(1))
    cpu = sum(float(x) for x in re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)", proc.stderr))
    return wall, cpu, rss, proc.stdout.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", type=int, default=100_000, help="order lines in the small file")
    parser.add_argument("--large", type=int, default=1_000_000, help="order lines in the large file")
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--products", type=int, default=2_000)
    args = parser.parse_args()
    env = dict(os.environ)
    if not env.get("DATABASE_URL"):
        sys.exit("set DATABASE_URL to a scratch database")
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)

    run_id = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        for label, lines in (("small", args.small), ("large", args.large)):
            path = Path(tmp) / f"orders-{lines}.csv"
            write_csv(
                path, lines=lines, run=f"{run_id}-{label}", customers=args.customers, products=args.products, seed=lines
            )
            size_mb = path.stat().st_size / 1e6
            wall, cpu, rss, summary = run_import(path, env)
            results[label] = (lines, wall, rss)
            print(
                f"{label}: {lines:,} lines ({size_mb:.0f} MB) in {wall:.1f} s = {lines / wall:,.0f} lines/s, "
                f"import process CPU {cpu:.0f} s, peak RSS {rss / 1024:.0f} MiB"
            )
            print(f"  {summary}")
    (small_lines, _, small_rss), (large_lines, _, large_rss) = results["small"], results["large"]
    print(f"peak RSS ratio large/small: {large_rss / small_rss:.2f} for {large_lines / small_lines:.0f}x the lines")


if __name__ == "__main__":
    main()
