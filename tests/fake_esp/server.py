"""A real HTTP server on loopback speaking the part of Postmark's API that anymail uses.

Send API: `POST /email`, `POST /email/batch` (X-Postmark-Server-Token header), answered the
way Postmark answers so anymail's Postmark backend parses them unchanged.
Message search: `GET /messages/outbound?count=&offset=&metadata_<key>=<value>`.
Control: `POST /_control`, `POST /_reset`, `GET /_stats`, `GET /_messages`.
Dev inbox: `GET /` lists received mail, `GET /inbox/<MessageID>` shows one.
"""

from __future__ import annotations

import json
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.fake_esp import inbox
from tests.fake_esp.state import INACTIVE, INVALID, EspState, addresses_of

_INACTIVE_MSG = (
    "You tried to send to recipient(s) that have been marked as inactive.\n"
    "Found inactive addresses: {addresses}.\n"
    "Inactive recipients are ones that have generated a hard bounce or a spam complaint. "
)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    state: EspState

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (read timeout, killed worker) is normal here, not an error to print.
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so anymail's session reuses its connection
    disable_nagle_algorithm = True  # headers and body go out as separate writes; Nagle would add 40 ms
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        return

    # --- plumbing -------------------------------------------------------------
    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, payload: Any) -> None:
        self._send(status, json.dumps(payload).encode(), "application/json")

    def _html(self, status: int, page: str) -> None:
        self._send(status, page.encode(), "text/html; charset=utf-8")

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        return json.loads(raw or b"null")

    def _authorised(self) -> bool:
        token = self.headers.get("X-Postmark-Server-Token", "")
        expected = self.server.state.server_token
        if not token or (expected is not None and token != expected):
            self._json(
                HTTPStatus.UNAUTHORIZED,
                {"ErrorCode": 10, "Message": "No valid Server API token was supplied in the HTTP headers."},
            )
            return False
        return True

    # --- routes ---------------------------------------------------------------
    def do_GET(self) -> None:  # noqa: N802
        url = urlsplit(self.path)
        state = self.server.state
        if url.path == "/_stats":
            self._json(200, state.stats())
        elif url.path == "/_messages":
            self._json(200, state.snapshot())
        elif url.path == "/messages/outbound":
            if self._authorised():
                self._json(200, _search(state, parse_qs(url.query)))
        elif url.path == "/":
            self._html(200, inbox.list_page(state.snapshot()))
        elif url.path.startswith("/inbox/"):
            found = state.find(url.path.removeprefix("/inbox/"))
            self._html(200, inbox.message_page(found)) if found else self._html(404, inbox.not_found_page())
        else:
            self._json(404, {"ErrorCode": 404, "Message": "Not found"})

    def do_POST(self) -> None:  # noqa: N802
        path = urlsplit(self.path).path.rstrip("/")
        state = self.server.state
        try:
            body = self._body()
        except ValueError:
            self._json(422, {"ErrorCode": 402, "Message": "Invalid JSON"})
            return
        if path == "/_control":
            state.configure(body or {})
            self._json(200, state.stats())
        elif path == "/_reset":
            state.reset()
            self._json(200, state.stats())
        elif path in ("/email", "/email/batch"):
            if self._authorised():
                self._send_api(path, body)
        else:
            self._json(404, {"ErrorCode": 404, "Message": "Not found"})

    def _send_api(self, path: str, body: Any) -> None:
        state = self.server.state
        if state.latency_ms:
            time.sleep(state.latency_ms / 1000)
        fault = state.take_fault()
        if fault is not None:
            self._json(fault, {"ErrorCode": fault, "Message": f"Injected fault: HTTP {fault}"})
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() != "x-postmark-server-token"}
        if path == "/email":
            if not isinstance(body, dict):
                self._json(422, {"ErrorCode": 402, "Message": "Invalid JSON"})
                return
            result = _accept_one(state, body, endpoint="email", headers=headers)
            status = 200 if result["ErrorCode"] == 0 else 422
        else:
            if not isinstance(body, list):
                self._json(422, {"ErrorCode": 402, "Message": "Invalid JSON"})
                return
            result = [_accept_one(state, item, endpoint="email/batch", headers=headers) for item in body]
            status = 200
        hang = state.take_hang()
        if hang:
            time.sleep(hang)
        self._json(status, result)


def _accept_one(state: EspState, data: dict[str, Any], *, endpoint: str, headers: dict[str, str]) -> dict[str, Any]:

    addresses = addresses_of(data.get("To", "")) + addresses_of(data.get("Cc", "")) + addresses_of(data.get("Bcc", ""))
    if not addresses:
        return {"ErrorCode": INVALID, "Message": "Zero recipients specified"}
    refused = state.recipient_error(addresses)
    if refused is not None:
        code, bad = refused
        if code == INACTIVE:
            return {"ErrorCode": INACTIVE, "Message": _INACTIVE_MSG.format(addresses=", ".join(bad))}
        return {"ErrorCode": INVALID, "Message": f"Invalid 'To' address: '{bad[0]}'."}
    entry = state.record(data, endpoint=endpoint, request_headers=headers)
    return {
        "To": entry["To"],
        "SubmittedAt": entry["SubmittedAt"],
        "MessageID": entry["MessageID"],
        "ErrorCode": 0,
        "Message": "OK",
    }


def _search(state: EspState, query: dict[str, list[str]]) -> dict[str, Any]:
    metadata = {k.removeprefix("metadata_"): v[0] for k, v in query.items() if k.startswith("metadata_")}
    recipient = (query.get("recipient") or [""])[0]
    count = int((query.get("count") or ["100"])[0])
    offset = int((query.get("offset") or ["0"])[0])
    found = state.search(metadata, recipient=recipient)
    page = found[offset : offset + count]
    return {
        "TotalCount": len(found),
        "Messages": [
            {
                "MessageID": m["MessageID"],
                "MessageStream": m["MessageStream"],
                "To": [{"Email": a, "Name": None} for a in m["recipients"]],
                "Recipients": m["recipients"],
                "ReceivedAt": m["SubmittedAt"],
                "From": m["From"],
                "Subject": m["Subject"],
                "Tag": m["Tag"],
                "Status": "Sent",
                "Metadata": m["Metadata"],
            }
            for m in page
        ],
    }


class FakeESP:
    """The fake ESP, embeddable in tests: `with FakeESP(latency_ms=20) as esp: ... esp.url`."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, latency_ms: float = 0.0, token: str | None = None):
        self.state = EspState(latency_ms=latency_ms, server_token=token)
        self._server = _Server((host, port), _Handler)
        self._server.state = self.state
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self) -> FakeESP:
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-esp", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeESP:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- the control API, from Python ----------------------------------------
    def fail_next(self, count: int, *, status: int = 500) -> None:
        self.state.configure({"fail_next": {"count": count, "status": status}})

    def reject(self, address: str, *, code: int = INACTIVE) -> None:
        self.state.configure({"recipient_errors": {address: code}})

    def hang_next(self, count: int, *, seconds: float) -> None:
        self.state.configure({"hang_next": {"count": count, "seconds": seconds}})

    def set_latency(self, latency_ms: float) -> None:
        self.state.configure({"latency_ms": latency_ms})

    def reset(self) -> None:
        self.state.reset()

    def stats(self) -> dict[str, Any]:
        return self.state.stats()

    def messages(self) -> list[dict[str, Any]]:
        return self.state.snapshot()

    def times_mailed(self, address: str) -> int:
        return self.state.stats()["recipients"].get(address.strip().lower(), 0)
