"""Shared pieces of the fault tests: a Redis server the test may kill (tests marked needs_redis_server)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import redis

# A Redis of the tests' own (never the shared one), so it can be killed and restarted.
FAULT_REDIS_PORT = int(os.environ.get("RELIABILITY_REDIS_PORT", "18979"))


class RedisServer:
    """`redis-server` on a loopback port of its own. `persistent=True` turns on the append-only
    file with an fsync per write, so a SIGKILL loses nothing that was acknowledged."""

    def __init__(self, workdir: Path, *, port: int = FAULT_REDIS_PORT, persistent: bool = False) -> None:
        assert shutil.which("redis-server"), "a test starting its own redis-server is marked needs_redis_server"
        self.port = port
        self.dir = workdir / f"redis-{port}"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.persistent = persistent
        self.process: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        command = ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(self.dir)]
        command += ["--save", "", "--logfile", str(self.dir / "redis.log")]
        if self.persistent:
            command += ["--appendonly", "yes", "--appendfsync", "always"]
        else:
            command += ["--appendonly", "no"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        for _ in range(100):
            try:
                if client.ping():
                    return
            except redis.RedisError:
                time.sleep(0.05)
        self.kill()
        pytest.fail(f"redis-server on port {self.port} did not start (is the port taken?)")

    def kill(self) -> None:
        """SIGKILL: no shutdown save, as a crashed or OOM-killed host."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


def wait_for(condition, *, timeout: float, interval: float = 0.1, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout}s waiting for {what}")
