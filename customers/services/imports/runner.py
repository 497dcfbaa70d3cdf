"""Chunked import loop shared by the customer and order imports.

Rows are validated one by one first; valid rows are written a chunk at a time in one
transaction. If the database refuses a chunk, the chunk is retried row by row so only
the offending row fails. Memory stays flat: only one chunk is held at a time.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field, replace
from typing import Generic, TypeVar

from django.db import DatabaseError, transaction

from customers.services.imports.csv_rows import CsvRecord, RowError

T = TypeVar("T")

# Failures kept for display (admin page); all failures are still counted and streamed.
MAX_FAILURES_KEPT = 1000


@dataclass(frozen=True, slots=True)
class RowFailure:
    line: int
    reason: str
    row: str = ""  # the row as it stood in the file, for the failed-rows report

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass
class ChunkResult:
    """What one chunk write did: counters by name, and rows it refused."""

    counts: Counter[str] = field(default_factory=Counter)
    failures: list[RowFailure] = field(default_factory=list)


@dataclass
class ImportReport:
    rows: int = 0
    failed: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    failures: list[RowFailure] = field(default_factory=list)

    @property
    def created(self) -> int:
        return self.counts["created"]

    @property
    def updated(self) -> int:
        return self.counts["updated"]

    @property
    def failures_truncated(self) -> bool:
        return self.failed > len(self.failures)

    def summary(self) -> str:
        main = f"created {self.created}, updated {self.updated}"
        if self.counts["unchanged"]:
            main += f", unchanged {self.counts['unchanged']}"
        extra = ", ".join(f"{name} {n}" for name, n in sorted(self.counts.items()) if " " in name and n)
        return f"{self.rows} rows: {main}, failed {self.failed}" + (f" ({extra})" if extra else "")


@dataclass
class ChunkedImport(Generic[T]):
    """Drive parse -> chunk -> write over a stream of CSV records."""

    parse: Callable[[dict[str, str]], T]
    write: Callable[[list[tuple[int, T]]], ChunkResult]
    chunk_size: int = 2000
    # Rows with the same key are kept in one chunk when adjacent (e.g. lines of one order),
    # up to four chunk sizes.
    group_key: Callable[[T], Hashable] | None = None
    on_failure: Callable[[RowFailure], None] | None = None
    on_rows: Callable[[int], None] | None = None
    # Called after each chunk is committed (or refused), outside its transaction.
    after_chunk: Callable[[], None] | None = None
    report: ImportReport = field(default_factory=ImportReport)
    # The file's text of each row in the chunk being written, by line number.
    _raw: dict[int, str] = field(default_factory=dict)

    def run(self, records: Iterable[CsvRecord]) -> ImportReport:
        chunk: list[tuple[int, T]] = []
        for record in records:
            self.report.rows += 1
            if self.on_rows:
                self.on_rows(1)
            if record.error or record.values is None:
                self._fail(RowFailure(record.line, record.error or "unreadable row", record.raw))
                continue
            try:
                item = self.parse(record.values)
            except RowError as exc:
                self._fail(RowFailure(record.line, str(exc), record.raw))
                continue
            if self._chunk_full(chunk, item):
                self._flush(chunk)
                chunk = []
            chunk.append((record.line, item))
            self._raw[record.line] = record.raw
        self._flush(chunk)
        return self.report

    def _chunk_full(self, chunk: list[tuple[int, T]], item: T) -> bool:
        if len(chunk) < self.chunk_size:
            return False
        if self.group_key is None or len(chunk) >= 4 * self.chunk_size:
            return True
        return self.group_key(item) != self.group_key(chunk[-1][1])

    def _flush(self, chunk: list[tuple[int, T]]) -> None:
        if not chunk:
            return
        self._write(chunk)
        self._raw.clear()
        if self.after_chunk:
            self.after_chunk()

    def _write(self, chunk: list[tuple[int, T]]) -> None:
        try:
            with transaction.atomic():
                result = self.write(chunk)
        except DatabaseError:
            for line, item in chunk:
                try:
                    with transaction.atomic():
                        result = self.write([(line, item)])
                except DatabaseError as exc:
                    self._fail(RowFailure(line, f"the database refused the row: {_first_line(exc)}"))
                    continue
                self._merge(result)
            return
        self._merge(result)

    def _merge(self, result: ChunkResult) -> None:
        self.report.counts.update(result.counts)
        for failure in result.failures:
            self._fail(failure)

    def _fail(self, failure: RowFailure) -> None:
        if not failure.row and failure.line in self._raw:
            failure = replace(failure, row=self._raw[failure.line])
        self.report.failed += 1
        if len(self.report.failures) < MAX_FAILURES_KEPT:
            self.report.failures.append(failure)
        if self.on_failure:
            self.on_failure(failure)


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
