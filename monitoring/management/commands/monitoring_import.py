"""``manage.py monitoring_import NAME FILE``: backfill a monitor from ``at,value,<dimension>...``.

Every line is validated as ``add()`` validates its arguments before anything
is written; one bad line and nothing is. Then the points are written as a
flush writes them (raw rows and rollups, in one transaction), in batches.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import sys
import tempfile
from collections.abc import Iterator
from typing import IO, Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, transaction
from django.utils import timezone

from monitoring.buckets import site_timezone
from monitoring.conf import conf
from monitoring.exceptions import NotRegistered
from monitoring.management.progress import Progress
from monitoring.management.rawcsv import LineError, PointReader, raw_model
from monitoring.register import monitor
from monitoring.storage.maintenance import rebuild
from monitoring.storage.writer import write_points

#: The most bad lines listed before the import gives up reading.
MAX_ERRORS = 20

#: Lines checked between two progress reports.
CHECK_STEP = 100_000

#: Bytes of standard input kept in memory before the copy goes to a temporary file.
SPOOL_BYTES = 8 * 1024 * 1024


class Command(BaseCommand):
    # call_command("monitoring_import", name, "-", stdin=...) reads from a stream.
    stealth_options = ("stdin",)
    help = (
        "Backfill a monitor from a CSV file with the header at,value,<dimension>... "
        "(monitoring_export --format raw writes one). Every line is checked first; "
        "if any is bad, nothing is written."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("name", help="The monitor to import into.")
        parser.add_argument("file", help="The CSV file, or - for standard input.")
        parser.add_argument(
            "--replace-range",
            action="store_true",
            help=(
                "First delete the monitor's raw rows from the file's first to its last point, "
                "and recompute the rollups of the days they fall on: importing twice "
                "leaves the same totals."
            ),
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=10_000,
            help="Points written per batch (default 10000).",
        )

    def handle(self, *args: Any, name: str, file: str, **options: Any) -> None:
        batch_size = options["batch_size"]
        if batch_size < 1:
            raise CommandError(f"--batch-size must be at least 1, got {batch_size}.")
        try:
            handle = monitor.get(name)
        except NotRegistered as exc:
            raise CommandError(str(exc)) from None
        model = raw_model(handle, "import")
        verbose = options["verbosity"] > 0
        self.stdin = options.get("stdin") or sys.stdin
        with self.open_input(file) as stream:
            count, first, last = self.check_lines(model, stream, verbose)
            if count == 0:
                source = "Standard input" if file == "-" else file
                self.stdout.write(f"{source} has no data points; nothing imported.")
                return
            stream.seek(0)
            reader = PointReader(model, csv.reader(stream))
            alias = conf.DATABASE
            progress = Progress(
                self.stderr, f"{name}: writing", count, unit="points", enabled=verbose
            )
            deleted = 0
            try:
                with transaction.atomic(using=alias):
                    if options["replace_range"]:
                        deleted = (
                            model._base_manager.using(alias)
                            .filter(created__gte=_stored(first), created__lte=_stored(last))
                            ._raw_delete(alias)
                        )
                    done = 0
                    for batch in _batches(reader, batch_size):
                        write_points(batch, alias)
                        done += len(batch)
                        progress.update(done)
                    progress.finish()
                    if options["replace_range"]:
                        rebuild([handle], since=first, until=last)
            except DatabaseError as exc:
                raise CommandError(
                    f"The database refused the import ({exc}); nothing was written."
                ) from None
        zone = site_timezone()
        earliest, latest = first.astimezone(zone), last.astimezone(zone)
        span = f"from {earliest.isoformat()} to {latest.isoformat()}"
        replaced = f", replacing {deleted} raw rows" if options["replace_range"] else ""
        self.stdout.write(
            self.style.SUCCESS(f"Imported {count} points into {name} {span}{replaced}.")
        )

    @contextlib.contextmanager
    def open_input(self, path: str) -> Iterator[IO[str]]:
        """Yield the file as text that can be read twice; standard input is copied first."""
        if path == "-":
            with tempfile.SpooledTemporaryFile(
                SPOOL_BYTES, mode="w+", newline="", encoding="utf-8"
            ) as copy:
                stdin = self.stdin
                for chunk in iter(lambda: stdin.read(io.DEFAULT_BUFFER_SIZE), ""):
                    copy.write(chunk)
                copy.seek(0)
                yield copy
            return
        try:
            file = open(path, newline="", encoding="utf-8-sig")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror or exc}.") from None
        with file:
            yield file

    # Not check(): BaseCommand.check() runs the system checks before handle().
    def check_lines(self, model: Any, stream: IO[str], verbose: bool) -> tuple[int, Any, Any]:
        """Validate every line; return how many points and the first and last, or raise.

        Up to :data:`MAX_ERRORS` bad lines are listed, with their line and column.
        """
        errors: list[str] = []
        count, first, last = 0, None, None
        # The number of lines is not known yet: a line per CHECK_STEP lines read.
        progress = Progress(self.stderr, "checking", None, unit="lines", enabled=verbose)
        try:
            reader = PointReader(model, csv.reader(stream))
            for line, cells in reader.lines():
                if line % CHECK_STEP == 0:
                    progress.update(line)
                try:
                    at, _point = reader.point(line, cells)
                except LineError as exc:
                    errors.append(str(exc))
                    if len(errors) >= MAX_ERRORS:
                        errors.append(f"(stopped reading after {MAX_ERRORS} bad lines)")
                        break
                    continue
                count += 1
                # Aware datetimes: compared as instants, whatever their offsets.
                if first is None or at < first:
                    first = at
                if last is None or at > last:
                    last = at
        except LineError as exc:  # the header
            errors = [str(exc)]
        except (csv.Error, UnicodeDecodeError) as exc:
            errors = [f"not a UTF-8 CSV file ({exc})."]
        progress.finish()
        if errors:
            raise CommandError("Nothing imported:\n  " + "\n  ".join(errors))
        return count, first, last


def _stored(at: dt.datetime) -> dt.datetime:
    """Return an aware time as raw rows store it: naive in ``TIME_ZONE`` without ``USE_TZ``."""
    return at if settings.USE_TZ else timezone.make_naive(at, site_timezone())


def _batches(reader: PointReader, size: int) -> Iterator[list[tuple]]:
    batch: list[tuple] = []
    for _at, point in reader:
        batch.append(point)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
