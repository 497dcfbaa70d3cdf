"""The peer: django-post-office sending the same messages through the same backend and fake ESP.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/<scratch> \
        .venv/bin/python bench/send_postoffice.py --messages 2000 --latency-ms 20

The messages are the ones bench/send_throughput.py sends (same customers, template, headers),
rendered before the clock starts, which spares the peer the per-recipient render our end-to-end
figure pays. Timed: `post_office.mail.send_many` (queue the rows) plus `send_queued` until the
queue is empty, with POST_OFFICE THREADS_PER_PROCESS = our SEND_CONCURRENCY and BATCH_SIZE =
our SEND_BATCH_SIZE, through anymail's Postmark backend. The scratch database is emptied first.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.send_throughput import EspProcess, configure, parse_args, prerendered, seed  # noqa: E402


def post_office_send(emails: list, processes: int) -> float:
    import logging

    logging.getLogger("post_office").setLevel(logging.WARNING)
    from post_office import mail
    from post_office.models import STATUS, Email

    kwargs_list = [
        {
            "sender": email.from_email,
            "recipients": email.to,
            "subject": email.subject,
            "message": email.body,
            "html_message": email.alternatives[0][0],
            "headers": email.extra_headers,
        }
        for email in emails
    ]
    started = time.perf_counter()
    mail.send_many(kwargs_list)
    while True:
        sent, failed, _requeued = mail.send_queued(processes=processes, log_level=0)
        if sent + failed == 0:
            break
    elapsed = time.perf_counter() - started
    assert Email.objects.filter(status=STATUS.sent).count() == len(emails)
    return elapsed


def main() -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings_postoffice"
    args = parse_args()
    esp = EspProcess(args.latency_ms)
    try:
        with tempfile.TemporaryDirectory() as scratch:
            configure(args, esp.url, scratch)
            campaign = seed(args.messages)
            emails = prerendered(args.messages, campaign)
            elapsed = post_office_send(emails, args.processes)
            stats = esp.call("GET", "_stats")
            assert stats["accepted"] == args.messages and max(stats["recipients"].values()) == 1
    finally:
        esp.stop()
    n = args.messages
    print(f"django-post-office: {n} messages, concurrency {args.concurrency}, batch {args.batch_size}")
    print(f"send_many + send_queued: {n / elapsed:8.1f} msg/s  ({elapsed:.2f} s)")
    if args.json:
        Path(args.json).write_text(json.dumps({"messages": n, "post_office_s": elapsed}))


if __name__ == "__main__":
    main()
