"""Run the fake ESP: `python -m tests.fake_esp --port 8025 --latency-ms 20`."""

from __future__ import annotations

import argparse

from tests.fake_esp.server import FakeESP


def main() -> None:
    parser = argparse.ArgumentParser(description="Postmark-compatible fake ESP with a dev inbox at /")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--token", default=None, help="Require this X-Postmark-Server-Token (default: any).")
    args = parser.parse_args()
    esp = FakeESP(host=args.host, port=args.port, latency_ms=args.latency_ms, token=args.token)
    print(f"Fake ESP listening on http://{args.host}:{esp.port}/ (dev inbox at /)", flush=True)
    try:
        esp.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
