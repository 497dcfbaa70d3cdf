"""The dev inbox: an HTML list of mail the fake ESP received, and a view of each message."""

from __future__ import annotations

import json
from html import escape
from typing import Any

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#222}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.4rem;text-align:left}
iframe{width:100%;height:640px;border:1px solid #ccc}pre{white-space:pre-wrap;background:#f6f6f6;padding:1rem}
dt{font-weight:600}dd{margin:0 0 .5rem 0}
"""


def _page(title: str, body: str) -> str:
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body>{body}</body></html>"
    )


def list_page(messages: list[dict[str, Any]], *, limit: int = 500) -> str:
    rows = "".join(
        f"<tr><td>{escape(m['SubmittedAt'][:19])}</td><td>{escape(m['To'])}</td>"
        f"<td><a href='/inbox/{escape(m['MessageID'])}'>{escape(m['Subject'] or '(no subject)')}</a></td>"
        f"<td>{escape(m['Tag'])}</td></tr>"
        for m in reversed(messages[-limit:])
    )
    body = (
        f"<h1>Dev inbox</h1><p>{len(messages)} message(s) received by the local fake ESP "
        f"(newest first, at most {limit} shown).</p>"
        f"<table><tr><th>Received (UTC)</th><th>To</th><th>Subject</th><th>Tag</th></tr>{rows}</table>"
    )
    return _page("Dev inbox", body)


def message_page(message: dict[str, Any]) -> str:
    headers = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in message["Headers"].items())
    body = (
        "<p><a href='/'>&larr; inbox</a></p>"
        f"<h1>{escape(message['Subject'] or '(no subject)')}</h1>"
        f"<dl><dt>From</dt><dd>{escape(message['From'])}</dd><dt>To</dt><dd>{escape(message['To'])}</dd>"
        f"<dt>Received</dt><dd>{escape(message['SubmittedAt'])}</dd>{headers}"
        f"<dt>Metadata</dt><dd>{escape(json.dumps(message['Metadata']))}</dd>"
        f"<dt>Tag</dt><dd>{escape(message['Tag'])}</dd></dl>"
        f'<h2>HTML</h2><iframe sandbox srcdoc="{escape(message["HtmlBody"], quote=True)}"></iframe>'
        f"<h2>Text</h2><pre>{escape(message['TextBody'])}</pre>"
    )
    return _page(message["Subject"] or "Message", body)


def not_found_page() -> str:
    return _page("Not found", "<p><a href='/'>&larr; inbox</a></p><h1>No such message</h1>")
