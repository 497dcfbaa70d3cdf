"""Messages per second through the whole send path, beside the bare ESP ceiling.

    python bench/send_throughput.py --messages 2000 --latency-ms 20

End to end: plan -> claim -> render -> send (anymail Postmark backend over HTTP to the fake
ESP) -> record, with settings.SEND_CONCURRENCY threads. Ceiling: the same number of
pre-rendered emails sent by a bare anymail loop with the same concurrency and no database.
Uses a throw-away SQLite database unless BENCH_DATABASE_URL names a scratch database (it is
emptied first!), e.g. BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_scratch.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.request import Request, urlopen

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=200)
    parser.add_argument("--processes", type=int, default=1, help="Worker processes (as a prefork worker's -c).")
    parser.add_argument("--json", help="Also write the figures to this JSON file (for bench/run.py).")
    return parser.parse_args()


def configure(args: argparse.Namespace, esp_url: str, scratch: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{scratch}/bench.sqlite3"
    os.environ["VAR_DIR"] = scratch
    os.environ.pop("REDIS_URL", None)
    os.environ.update(
        EMAIL_BACKEND="anymail.backends.postmark.EmailBackend",
        POSTMARK_API_URL=esp_url,
        POSTMARK_SERVER_TOKEN="bench-token",
        SEND_CONCURRENCY=str(args.concurrency),
        SEND_BATCH_SIZE=str(args.batch_size),
        SEND_RATE_PER_SECOND="0",
        LOG_LEVEL="WARNING",
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if os.environ.get("BENCH_DATABASE_URL"):
        call_command("flush", interactive=False, verbosity=0)  # a scratch database: start empty


def seed(count: int):
    from campaigns.models import Campaign, CampaignKind, CampaignStatus, Step, Template, TemplateVersion
    from customers.models import Customer

    Customer.objects.bulk_create(
        [Customer(email=f"bench{i}@example.test", first_name=f"Name{i}", consent="granted") for i in range(count)],
        batch_size=1000,
    )
    template = Template.objects.create(name="Bench", subject="Hi", mjml="<mjml></mjml>", is_valid=True)
    html = (
        "<html><body><p>Hello {{ customer.first_name|default:'there' }},</p>"
        "<p>Our news this week.</p><p><a href='https://shop.example/new'>See what is new</a></p>"
        "<p><a href='{{ unsubscribe_url }}'>Unsubscribe</a></p></body></html>"
    )
    template.current_version = TemplateVersion.objects.create(
        template=template, number=1, subject="Hi {{ customer.first_name }}", mjml="-", compiled_html=html
    )
    template.save()
    campaign = Campaign.objects.create(name="Bench", kind=CampaignKind.ONE_OFF, status=CampaignStatus.ACTIVE)
    Step.objects.create(campaign=campaign, position=1, template=template)
    return campaign


def _drain_queue() -> None:
    from django.db import connection

    from campaigns.models import Message, MessageStatus
    from campaigns.services.sending import messages_send_due

    connection.close()  # a forked child must not share the parent's database connection
    while Message.objects.filter(status=MessageStatus.QUEUED).exists():
        messages_send_due(budget_seconds=600)


def in_processes(target, processes: int, *args) -> None:
    """Run target in `processes` forked processes (like a prefork Celery worker), or here if 1."""
    if processes == 1:
        target(*args)
        return
    from django.db import connection

    connection.close()
    context = multiprocessing.get_context("fork")
    children = [context.Process(target=target, args=args) for _ in range(processes)]
    for child in children:
        child.start()
    for child in children:
        child.join()
        assert child.exitcode == 0


def end_to_end(campaign, processes: int) -> float:
    from campaigns.models import Message, MessageStatus
    from campaigns.services.sending import message_plan_one_off

    started = time.perf_counter()
    message_plan_one_off(campaign=campaign)
    in_processes(_drain_queue, processes)
    elapsed = time.perf_counter() - started
    assert Message.objects.filter(status=MessageStatus.SENT).count() == Message.objects.count()
    return elapsed


def prerendered(count: int, campaign) -> list:
    """Emails of the same size and headers as the engine's, rendered before the clock starts."""
    from django.conf import settings
    from django.core.mail import EmailMultiAlternatives

    from campaigns.rendering import message_render
    from customers.models import Customer
    from tracking.unsubscribe_links import list_unsubscribe_headers

    version = campaign.steps.get().template.current_version
    emails = []
    for i, customer in enumerate(Customer.objects.order_by("pk")[:count]):
        rendered = message_render(version=version, customer=customer, message_id=i + 1)
        headers = list_unsubscribe_headers(i + 1, list_id=f"campaign-{campaign.pk}")
        email = EmailMultiAlternatives(
            rendered.subject, rendered.text, settings.DEFAULT_FROM_EMAIL, [customer.email], headers=headers
        )
        email.attach_alternative(rendered.html, "text/html")
        email.metadata = {"message_id": str(i + 1), "campaign_id": str(campaign.pk)}
        email.tags = [campaign.kind]
        emails.append(email)
    return emails


def _send_all(emails: list, concurrency: int) -> None:
    from django.core.mail import get_connection

    local = threading.local()

    def send(email) -> None:
        if not hasattr(local, "connection"):
            local.connection = get_connection()
            local.connection.open()
        local.connection.send_messages([email])

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(send, emails))


def bare_loop(emails: list, concurrency: int, processes: int) -> float:
    started = time.perf_counter()
    if processes == 1:
        _send_all(emails, concurrency)
    else:
        context = multiprocessing.get_context("fork")
        children = [
            context.Process(target=_send_all, args=(emails[i::processes], concurrency)) for i in range(processes)
        ]
        for child in children:
            child.start()
        for child in children:
            child.join()
    return time.perf_counter() - started


class EspProcess:
    """The fake ESP in its own process, as a real ESP would be: it must not share our GIL."""

    def __init__(self, latency_ms: float) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/"
        command = [sys.executable, "-m", "tests.fake_esp", "--port", str(self.port), "--latency-ms", str(latency_ms)]
        self.process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                self.call("GET", "_stats")
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("fake ESP did not start")

    def call(self, method: str, path: str) -> dict:
        request = Request(self.url + path, method=method, data=b"{}" if method == "POST" else None)  # noqa: S310
        with urlopen(request, timeout=10) as response:  # noqa: S310 - loopback only
            return json.load(response)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def main() -> None:
    args = parse_args()
    esp = EspProcess(args.latency_ms)
    try:
        with tempfile.TemporaryDirectory() as scratch:
            configure(args, esp.url, scratch)
            campaign = seed(args.messages)
            e2e = end_to_end(campaign, args.processes)
            stats = esp.call("GET", "_stats")
            assert stats["accepted"] == args.messages and max(stats["recipients"].values()) == 1
            esp.call("POST", "_reset")
            emails = prerendered(args.messages, campaign)
            ceiling = bare_loop(emails, args.concurrency, args.processes)
            assert esp.call("GET", "_stats")["accepted"] == args.messages
    finally:
        esp.stop()
    from django.db import connection

    n = args.messages
    print(
        f"{n} messages, ESP latency {args.latency_ms:g} ms, concurrency {args.concurrency}, "
        f"batch {args.batch_size}, processes {args.processes}, database {connection.vendor}"
    )
    print(f"end to end (plan, claim, render, send, record): {n / e2e:8.1f} msg/s  ({e2e:.2f} s)")
    print(f"bare anymail loop, pre-rendered, no database:  {n / ceiling:8.1f} msg/s  ({ceiling:.2f} s)")
    print(f"ratio end to end / ceiling: {ceiling / e2e:.2f}")
    if args.json:
        figures = {"messages": n, "end_to_end_s": e2e, "ceiling_s": ceiling, "database": connection.vendor}
        figures |= {"concurrency": args.concurrency, "batch_size": args.batch_size, "processes": args.processes}
        Path(args.json).write_text(json.dumps(figures | {"latency_ms": args.latency_ms}))


if __name__ == "__main__":
    main()
