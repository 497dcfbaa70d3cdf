"""The bench runner's verdicts: a ratio judged against its target, on given numbers (no benchmark runs)."""

import json

from bench.report import INFO, MISS, PASS, Row, dump_json, render_markdown


def test_rate_target_is_a_minimum_share_of_the_baseline():
    row = Row("send", "end to end vs ceiling", ours=180.0, baseline=300.0, unit="msg/s", baseline_name="ceiling",
              at_least=0.6)  # fmt: skip
    assert row.ratio == 0.6 and row.status == PASS
    slower = Row("send", "end to end vs ceiling", 170.0, 300.0, "msg/s", "ceiling", at_least=0.6)
    assert slower.status == MISS


def test_duration_target_is_a_maximum_multiple_of_the_baseline():
    assert Row("scheduler", "tick", 0.19, 0.1, "s", "hand SQL", at_most=2.0).status == PASS
    assert Row("scheduler", "tick", 0.21, 0.1, "s", "hand SQL", at_most=2.0).status == MISS


def test_events_must_equal_requests_exactly():
    def events(recorded: int) -> str:
        return Row("tracking", "opens", recorded, 1000, "events", "requests", at_least=1.0, at_most=1.0).status

    assert events(1000) == PASS
    assert events(999) == MISS  # one lost event
    assert events(1001) == MISS  # one counted twice


def test_a_missing_baseline_cannot_pass_and_rows_without_target_are_informative():
    assert Row("send", "x", 10.0, 0.0, "msg/s", "ceiling", at_least=0.6).status == MISS
    assert Row("render", "x", 0.1, 3.0, "ms", "compile").status == INFO


def test_reports_carry_the_machine_the_rows_and_their_verdicts():
    info = {"date": "2026-01-01T00:00:00+00:00", "cores": 2, "cpu": "x", "memory_gb": 8.0, "python": "3.11",
            "django": "5.2", "postgresql": "15", "redis": "7"}  # fmt: skip
    rows = [Row("metrics", "nightly vs aggregate", 0.9, 0.3, "s", "bare aggregate", at_most=2.0)]
    markdown = render_markdown(mode="quick", info=info, rows=rows, notes=["a note"])
    assert "| metrics | nightly vs aggregate | 0.9 | 0.3 (bare aggregate) | s | 3.00 | <= 2 | MISS |" in markdown
    assert "2 cores" in markdown and "- a note" in markdown
    payload = json.loads(dump_json(mode="quick", info=info, rows=rows, raw={}, notes=[]))
    assert payload["machine"]["cores"] == 2
    assert payload["rows"][0]["status"] == MISS and payload["rows"][0]["target"] == "<= 2"


def test_tracking_rounds_report_the_median_rate_and_every_request():
    from bench.tracking_load import _median_of

    rounds = [{"rps": r, "p50_ms": 1.0, "p99_ms": p99, "requests": 100, "errors": e}
              for r, p99, e in ((900.0, 30.0, 0), (1500.0, 10.0, 1), (1000.0, 20.0, 0))]  # fmt: skip
    merged = _median_of(rounds)
    assert merged["rps"] == 1000.0 and merged["p99_ms"] == 20.0  # one lucky or unlucky round moves nothing
    assert merged["requests"] == 300 and merged["errors"] == 1 and merged["rounds_rps"] == [900.0, 1500.0, 1000.0]
