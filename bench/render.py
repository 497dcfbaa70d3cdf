"""Benchmark: per-recipient render time against the once-per-version compile time.

For each starter template: the compile (validation + MJML → HTML + parsing the Django
templates) that happens once per version, and message_render for many recipients with the
parsed version cached. For comparison it also times converting a recipient's final HTML to
text with html2text, which the per-version plain-text template avoids. Prints milliseconds
and the ratio compile / render (how many recipient renders one compile costs).

    .venv/bin/python bench/render.py [--recipients 2000]

Needs no database: recipients are unsaved customers and per-message data (products, offer,
cart) is passed precomputed, as the sender does for a batch.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=2000)
    parser.add_argument("--compiles", type=int, default=20)
    parser.add_argument("--json", help="Also write the figures to this JSON file (for bench/run.py).")
    args = parser.parse_args()

    import django

    django.setup()

    from campaigns.models import TemplateVersion
    from campaigns.rendering import html_to_text, message_render
    from campaigns.services.templates import template_check
    from campaigns.templating.engine import parsed_version_get
    from campaigns.templating.starters import starter_templates
    from customers.models import Customer

    products = [
        {"sku": f"P{i}", "name": f"Product {i}", "category": "tea", "price": Decimal("9.90"), "currency": "EUR"}
        for i in range(3)
    ]
    extra = {
        "offer": {"code": "BACK15", "description": "15% off"},
        "cart": {"items": products, "total": Decimal("29.70"), "currency": "EUR", "url": "https://shop.example/c"},
        "products_bought": products,
        "recommended_products": products,
        "last_order": {"external_id": "A-1", "total": Decimal("29.70"), "currency": "EUR", "items": products},
    }
    customers = [
        Customer(email=f"r{i}@example.test", first_name=f"Name{i}", orders_count=1) for i in range(args.recipients)
    ]

    print(f"{'template':34} {'compile ms':>10} {'render ms':>10} {'html2text/rcpt':>14} {'ratio':>7}")
    ratios, rows = [], []
    for number, starter in enumerate(starter_templates(), start=1):
        compile_times = []
        for _ in range(args.compiles):
            started = time.perf_counter()
            check = template_check(subject=starter.subject, preheader=starter.preheader, mjml=starter.mjml)
            parsed_version_get(
                version_id=None,
                subject=starter.subject,
                preheader=starter.preheader,
                compiled_html=check.compiled_html,
            )
            compile_times.append(time.perf_counter() - started)
        version = TemplateVersion(
            pk=10_000 + number,
            number=1,
            subject=starter.subject,
            preheader=starter.preheader,
            mjml=starter.mjml,
            compiled_html=check.compiled_html,
        )
        message_render(version=version, customer=customers[0], extra=extra)  # parse once, as the first recipient
        started = time.perf_counter()
        for customer in customers:
            email = message_render(version=version, customer=customer, extra=extra)
        render_ms = (time.perf_counter() - started) * 1000 / len(customers)
        started = time.perf_counter()
        for _ in range(200):
            html_to_text(email.html)
        text_ms = (time.perf_counter() - started) * 1000 / 200
        compile_ms = statistics.median(compile_times) * 1000
        ratios.append(compile_ms / render_ms)
        rows.append(
            {"template": starter.name, "compile_ms": compile_ms, "render_ms": render_ms, "html2text_ms": text_ms}
        )
        print(f"{starter.name[:34]:34} {compile_ms:10.2f} {render_ms:10.3f} {text_ms:14.3f} {ratios[-1]:7.1f}")
    print(f"median compile/render ratio: {statistics.median(ratios):.1f} (one compile costs that many renders)")
    print("html2text/rcpt: what converting each recipient's final HTML to text would add per recipient")
    if args.json:
        Path(args.json).write_text(json.dumps({"recipients": args.recipients, "templates": rows}))


if __name__ == "__main__":
    main()
