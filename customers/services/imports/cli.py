"""What the import management commands share: progress bar, streamed errors, summary, exit code."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path
from typing import Protocol

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from customers.services.imports.csv_rows import ImportAborted
from customers.services.imports.runner import ImportReport, RowFailure


class Importer(Protocol):
    def __call__(self, *, stream, actor, on_failure, on_rows, chunk_size) -> ImportReport: ...


def add_import_arguments(parser: CommandParser) -> None:
    parser.add_argument("file", help="Path of the CSV file (UTF-8, first row is the header).")
    parser.add_argument("--chunk-size", type=int, default=2000, help="Rows written per transaction.")
    parser.add_argument("--no-progress", action="store_true", help="Hide the progress bar.")


def _data_lines(path: Path) -> int:
    """Rough row count for the progress bar (newlines minus the header), read in binary blocks."""
    count = 0
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            count += block.count(b"\n")
    return max(count - 1, 0)


def import_command_run(command: BaseCommand, *, importer: Importer, options: dict, label: str) -> None:
    path = Path(options["file"])
    if not path.is_file():
        raise CommandError(f"{path}: no such file")
    if options["chunk_size"] < 1:
        raise CommandError("--chunk-size must be at least 1")
    # disable=None lets tqdm hide itself when stderr is not a terminal.
    bar = tqdm(
        total=_data_lines(path),
        unit=" rows",
        desc=label,
        file=sys.stderr,
        disable=True if options["no_progress"] else None,
        mininterval=0.5,
    )

    def on_failure(failure: RowFailure) -> None:
        with tqdm.external_write_mode(file=sys.stderr):
            command.stderr.write(f"{path.name} {failure}")

    try:
        with path.open("rb") as stream:
            report = importer(
                stream=stream,
                actor=f"{command_name(command)} ({getpass.getuser()})",
                on_failure=on_failure,
                on_rows=bar.update,
                chunk_size=options["chunk_size"],
            )
    except ImportAborted as exc:
        raise CommandError(f"{path.name}: {exc}", returncode=2) from None
    finally:
        bar.close()
    command.stdout.write(f"{label}: {report.summary()}")
    if report.failed:
        raise CommandError(f"{report.failed} row(s) failed; the errors are listed above", returncode=1)


def command_name(command: BaseCommand) -> str:
    return command.__module__.rsplit(".", 1)[-1]
