"""Reading CSV files as a stream of numbered records, and strict parsing of cell values.

Files are read as bytes and decoded line by line, so memory stays flat and a line that is
not UTF-8 (a spreadsheet's Latin-1 export) fails alone instead of stopping the import.

Every parser raises RowError with a reason a shop owner can act on; the caller adds the
line number. Blank optional cells parse to None, meaning "not given".
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import re
import zoneinfo
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone

from customers.models import normalise_email

_TRUE = {"true", "yes", "1"}
_FALSE = {"false", "no", "0"}
_LOCALE = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


class RowError(ValueError):
    """A row cannot be imported; the message says why."""


class ImportAborted(Exception):
    """The file as a whole cannot be read (missing column, not UTF-8, empty)."""


@dataclass(frozen=True, slots=True)
class CsvRecord:
    line: int
    values: dict[str, str] | None
    error: str | None = None
    # The row as it stood in the file (capped), for the failed-rows report.
    raw: str = ""


_NOT_UTF8 = "the line is not valid UTF-8: save the file as UTF-8 (CSV UTF-8 in spreadsheet programs)"
_UNTERMINATED = (
    "unterminated quote: a quoted field starts on this line and never closes, so it was not imported; "
    "the lines after it were read on their own"
)
# A record longer than this many physical lines is taken for a quote that never closes. Customer
# and order cells are short, so a legitimate multi-line cell stays far below it.
MAX_RECORD_LINES = 100
RAW_KEPT_CHARS = 4000


class _RunawayQuote(Exception):
    pass


@dataclass(frozen=True, slots=True)
class _Line:
    number: int
    text: str
    utf8: bool


def _physical_lines(raw: Iterable[bytes]) -> Iterator[bytes]:
    # A binary file splits on \n only; splitlines also splits the lone \r of old Mac exports.
    for chunk in raw:
        yield from chunk.splitlines(keepends=True)


def _decoded_lines(raw: Iterable[bytes]) -> Iterator[_Line]:
    """Decode line by line, so one badly encoded line fails alone."""
    for number, line in enumerate(_physical_lines(raw), start=1):
        if number == 1 and line.startswith(codecs.BOM_UTF8):
            line = line[len(codecs.BOM_UTF8) :]
        try:
            yield _Line(number, line.decode("utf-8"), True)
        except UnicodeDecodeError:
            yield _Line(number, line.decode("utf-8", errors="replace"), False)


class _LineSource:
    """The lines fed to csv.reader, remembering those of the record being read.

    It notices the two ways a stray quote swallows the rest of a file: a record running past
    MAX_RECORD_LINES, and the end of the file inside a quoted field (csv.reader then returns the
    swallowed text as one cell, silently). The lines after the record's first can be replayed.
    """

    def __init__(self, raw: Iterable[bytes]) -> None:
        self._lines = _decoded_lines(raw)
        self._replay: list[_Line] = []
        self.taken: list[_Line] = []
        self.ended_inside_record = False

    def __iter__(self) -> _LineSource:
        return self

    def __next__(self) -> str:
        if len(self.taken) >= MAX_RECORD_LINES:
            raise _RunawayQuote
        line = self._replay.pop() if self._replay else next(self._lines, None)
        if line is None:
            self.ended_inside_record = bool(self.taken)
            raise StopIteration
        self.taken.append(line)
        return line.text

    def record_start(self) -> None:
        self.taken = []
        self.ended_inside_record = False

    def replay_after_first(self) -> None:
        self._replay.extend(reversed(self.taken[1:]))
        self.taken = self.taken[:1]

    def raw(self) -> str:
        return "".join(line.text for line in self.taken)[:RAW_KEPT_CHARS]


def csv_records(
    raw: Iterable[bytes], *, required: set[str], known: set[str], one_of: set[str] | None = None
) -> Iterator[CsvRecord]:
    """Yield one record per data row of a binary UTF-8 CSV stream, with its line number.

    Column names are matched case-insensitively; unknown columns are ignored. A missing
    required column (or none of `one_of`) or a column named twice aborts before any row is
    read. Blank lines are skipped. A quote that never closes fails its own row, and the
    lines after it are read as rows of their own.
    """
    source = _LineSource(raw)
    reader = csv.reader(source)
    try:
        header = next(reader)
    except StopIteration:
        raise ImportAborted("the file is empty: expected a header row") from None
    except (csv.Error, _RunawayQuote) as exc:
        raise ImportAborted(f"cannot read the header row: {exc or 'a quote never closes'}") from None
    if source.ended_inside_record or len(source.taken) > 1:
        raise ImportAborted("cannot read the header row: a quote in it never closes")
    if not all(line.utf8 for line in source.taken):
        raise ImportAborted("the header row is not valid UTF-8: save the file as UTF-8")
    names = [name.strip().lower() for name in header]
    _check_header(names, required=required, one_of=one_of)
    index = {name: i for i, name in enumerate(names) if name in known}
    width = len(names)
    while True:
        source.record_start()
        try:
            row = next(reader)
        except StopIteration:
            if not source.ended_inside_record:
                return
            row = None
        except _RunawayQuote:
            row = None
        except csv.Error as exc:
            if len(source.taken) <= 1:
                yield CsvRecord(
                    source.taken[0].number if source.taken else 0, None, f"malformed CSV: {exc}", source.raw()
                )
                continue
            row = None  # e.g. "field larger than field limit": an open quote ran on
        if row is None or source.ended_inside_record:
            # Read the swallowed lines again, this time as rows of their own.
            first = source.taken[0]
            source.replay_after_first()
            reader = csv.reader(source)
            yield CsvRecord(first.number, None, _UNTERMINATED, source.raw())
            continue
        line = source.taken[-1].number  # where the record ends, as csv.reader counts (a quote that never
        # closes is reported where it opens, above)
        if not all(taken.utf8 for taken in source.taken):
            yield CsvRecord(line, None, _NOT_UTF8, source.raw())
            continue
        if not row or not any(cell.strip() for cell in row):
            continue
        if len(row) > width:
            yield CsvRecord(line, None, f"row has {len(row)} fields but the header has {width}", source.raw())
            continue
        values = {name: row[i].strip() for name, i in index.items() if i < len(row)}
        yield CsvRecord(line, values, raw=source.raw())


def _check_header(names: list[str], *, required: set[str], one_of: set[str] | None) -> None:
    positions: dict[str, list[int]] = {}
    for position, name in enumerate(names, start=1):
        if name:
            positions.setdefault(name, []).append(position)
    twice = {name: where for name, where in positions.items() if len(where) > 1}
    if twice:
        described = "; ".join(
            f"{name!r} in columns {', '.join(map(str, where))}" for name, where in sorted(twice.items())
        )
        raise ImportAborted(
            f"the header names a column more than once ({described}): it is unclear which one to use, "
            "so nothing was imported. Rename or remove the extra column."
        )
    missing = sorted(required - set(names))
    if missing:
        raise ImportAborted(
            f"missing required column(s): {', '.join(missing)} (header has: {', '.join(n for n in names if n)})"
        )
    if one_of and not one_of & set(names):
        raise ImportAborted(f"the header needs at least one of the columns: {', '.join(sorted(one_of))}")


def csv_header_check(raw: Iterable[bytes], *, required: set[str], known: set[str], one_of: set[str] | None = None):
    """Raise ImportAborted if the file's header would abort the import (reads the header only)."""
    next(csv_records(raw, required=required, known=known, one_of=one_of), None)


def text(values: dict[str, str], column: str, *, max_length: int) -> str | None:
    value = values.get(column) or ""
    if not value:
        return None
    if len(value) > max_length:
        raise RowError(f"{column} is longer than {max_length} characters")
    return value


def email(values: dict[str, str], column: str = "email", *, required: bool = True) -> str | None:
    value = normalise_email(values.get(column) or "")
    if not value:
        if required:
            raise RowError(f"{column} is required")
        return None
    if len(value) > 254:
        raise RowError(f"{column} is longer than 254 characters")
    try:
        validate_email(value)
    except ValidationError:
        raise RowError(f"{column} is not a valid email address") from None
    return value


def datetime_utc(values: dict[str, str], column: str, *, required: bool = False) -> dt.datetime | None:
    """ISO 8601 date or date-time; a value without an offset is taken as UTC."""
    value = values.get(column) or ""
    if not value:
        if required:
            raise RowError(f"{column} is required")
        return None
    raw = value[:-1] + "+00:00" if value[-1:] in {"Z", "z"} else value
    try:
        parsed = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise RowError(f"{column} {value!r} is not an ISO 8601 date or date-time") from None
    if timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=dt.UTC)
    try:
        return parsed.astimezone(dt.UTC)
    except OverflowError:  # e.g. 9999-12-31T23:59-05:00 is past the last representable UTC instant
        raise RowError(f"{column} {value!r} is out of range") from None


@cache
def _timezone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def timezone_name(values: dict[str, str], column: str = "timezone") -> str | None:
    value = values.get(column) or ""
    if not value:
        return None
    if value not in _timezone_names():
        raise RowError(f"{column} {value[:64]!r} is not an IANA time zone name (e.g. Europe/Berlin)")
    return value


def locale(values: dict[str, str], column: str = "locale") -> str | None:
    value = values.get(column) or ""
    if not value:
        return None
    if len(value) > 16 or not _LOCALE.match(value):
        raise RowError(f"{column} {value[:32]!r} is not a locale such as en, de-DE or pt_BR")
    return value


def boolean(values: dict[str, str], column: str) -> bool | None:
    value = (values.get(column) or "").lower()
    if not value:
        return None
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise RowError(f"{column} must be true, false or blank, not {value[:32]!r}")


def money(values: dict[str, str], column: str, *, max_digits: int, required: bool = False) -> Decimal | None:
    """A non-negative amount with at most two decimal places (19.990 is fine, 19.999 is not)."""
    value = values.get(column) or ""
    if not value:
        if required:
            raise RowError(f"{column} is required")
        return None
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise RowError(f"{column} {value[:32]!r} is not a number") from None
    if not amount.is_finite() or amount < 0:
        raise RowError(f"{column} {value[:32]!r} must be zero or more")
    # Size first: quantize raises for a value with more digits than the context holds (1E30).
    if amount >= Decimal(10) ** (max_digits - 2):
        raise RowError(f"{column} {value[:32]!r} is too large")
    cents = amount.quantize(Decimal("0.01"))
    if cents != amount:
        raise RowError(f"{column} {value[:32]!r} has more than two decimal places")
    return cents


def positive_int(values: dict[str, str], column: str) -> int | None:
    value = values.get(column) or ""
    if not value:
        return None
    try:
        number = int(value)
    except ValueError:
        raise RowError(f"{column} {value[:32]!r} is not a whole number") from None
    if number < 1 or number > 2_147_483_647:
        raise RowError(f"{column} {value[:32]!r} must be at least 1")
    return number


def currency(values: dict[str, str], column: str = "currency") -> str | None:
    value = (values.get(column) or "").upper()
    if not value:
        return None
    if not _CURRENCY.match(value):
        raise RowError(f"{column} {value[:32]!r} is not a three-letter currency code such as EUR")
    return value
