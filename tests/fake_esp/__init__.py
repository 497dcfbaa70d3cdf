"""A fake Postmark-compatible ESP on loopback, for tests, benchmarks and the dev inbox."""

from tests.fake_esp.server import FakeESP
from tests.fake_esp.state import INACTIVE, INVALID

__all__ = ["INACTIVE", "INVALID", "FakeESP"]
