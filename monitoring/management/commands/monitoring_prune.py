"""``manage.py monitoring_prune [--dry-run]``: delete data older than MONITORING_RETENTION."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from monitoring.conf import conf
from monitoring.management.progress import ProgressByName
from monitoring.storage.maintenance import prune


class Command(BaseCommand):
    help = (
        "Delete raw rows and rollups older than MONITORING_RETENTION "
        "(by default: raw rows 30 days, minute rollups 7, hour rollups 400, day rollups never)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be deleted; delete nothing."
        )

    def handle(self, *args: Any, dry_run: bool, **options: Any) -> None:
        retention = conf.RETENTION
        kept = ", ".join(
            f"{name} {'forever' if days is None else f'{days} days'}"
            for name, days in retention.items()
        )
        self.stdout.write(f"Retention: {kept}.")
        progress = ProgressByName(self.stderr, unit="rows", enabled=options["verbosity"] > 0)
        result = prune(dry_run=dry_run, progress=progress)
        progress.finish()
        verb = "would delete" if dry_run else "deleted"
        total = 0
        for table, count in result.items():
            total += count
            if count or options["verbosity"] > 1:
                self.stdout.write(f"  {table}: {verb} {count} rows")
        message = f"{'Dry run: would delete' if dry_run else 'Deleted'} {total} rows."
        self.stdout.write(self.style.SUCCESS(message))
