"""``manage.py monitoring_rebuild [name ...] [--since DATE] [--until DATE]``: redo rollups."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from monitoring.buckets import site_timezone
from monitoring.exceptions import NotRegistered
from monitoring.management.progress import ProgressByName
from monitoring.register import Monitor, monitor
from monitoring.storage.maintenance import rebuild


def parse_since(text: str, option: str = "--since") -> dt.datetime:
    """Return ``--since`` (a date, or a date and time) as an aware datetime in the site's zone."""
    try:
        parsed = parse_datetime(text)
        if parsed is None:
            day = parse_date(text)
            if day is not None:
                parsed = dt.datetime.combine(day, dt.time())
    except ValueError:
        parsed = None
    if parsed is None:
        raise CommandError(
            f"{option} needs a date like 2024-06-03 or a date and time like "
            f"'2024-06-03 12:00', got {text!r}."
        )
    if timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=site_timezone())
    return parsed


class Command(BaseCommand):
    help = (
        "Recompute the rollups of monitors (all, or those named) from their raw rows: "
        "for backfills, imports and repairs. Works in batches with bounded memory."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("names", nargs="*", metavar="name", help="Monitors to rebuild.")
        parser.add_argument(
            "--since",
            help=(
                "Rebuild only from this date (site time zone) on; "
                "default: everything the raw rows still cover."
            ),
        )
        parser.add_argument(
            "--until",
            help=(
                "Rebuild only up to the end of the day (site time zone) holding this date; "
                "default: up to the newest raw row."
            ),
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=10_000,
            help="Raw rows read per batch (default 10000).",
        )

    def handle(self, *args: Any, names: list[str], since: str | None, **options: Any) -> None:
        batch_size = options["batch_size"]
        if batch_size < 1:
            raise CommandError(f"--batch-size must be at least 1, got {batch_size}.")
        try:
            handles = [monitor.get(name) for name in names] if names else list(monitor)
        except NotRegistered as exc:
            raise CommandError(str(exc)) from None
        since_at = parse_since(since) if since else None
        until = options.get("until")
        until_at = parse_since(until, "--until") if until else None
        if since_at and until_at and until_at < since_at:
            raise CommandError(
                f"--until ({until_at.isoformat()}) is before --since ({since_at.isoformat()})."
            )

        bars = ProgressByName(self.stderr, unit="raw rows", enabled=options["verbosity"] > 0)

        def progress(handle: Monitor, done: int, total: int) -> None:
            bars(handle.name, done, total)

        done = rebuild(
            handles, since=since_at, until=until_at, batch_size=batch_size, progress=progress
        )
        bars.finish()
        for name, count in done.items():
            self.stdout.write(f"{name}: rebuilt from {count} raw rows.")
        scope = f" since {since_at.isoformat()}" if since_at else ""
        scope += f" until the end of {until_at.date().isoformat()}" if until_at else ""
        self.stdout.write(self.style.SUCCESS(f"Rebuilt {len(done)} monitor(s){scope}."))
