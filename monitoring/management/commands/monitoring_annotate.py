"""``manage.py monitoring_annotate "Deployed v1.4" --tag deploy``: mark an event on every chart."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from monitoring.annotations import annotate
from monitoring.buckets import site_timezone


class Command(BaseCommand):
    help = "Mark an event (a deploy, a migration, an incident) on every chart, now or --at a time."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("text", help="What happened, e.g. 'Deployed v1.4'.")
        parser.add_argument(
            "--tag", action="append", default=[], help="A tag, e.g. deploy; repeat for more."
        )
        parser.add_argument(
            "--at",
            help="When, in ISO 8601 (2026-11-29T21:00 or with an offset); "
            "without an offset in TIME_ZONE. Default: now.",
        )

    def handle(self, *args: Any, text: str, tag: list[str], at: str | None, **options: Any) -> None:
        moment = None
        if at is not None:
            try:
                moment = dt.datetime.fromisoformat(at)
            except ValueError:
                raise CommandError(
                    f"--at {at!r} is not an ISO 8601 time such as 2026-11-29T21:00."
                ) from None
        try:
            annotation = annotate(text, tags=tag, at=moment)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        when = annotation.at
        if when.tzinfo is not None:
            when = when.astimezone(site_timezone())
        tags = f" [{', '.join(annotation.tags)}]" if annotation.tags else ""
        self.stdout.write(f"Annotated {when:%Y-%m-%d %H:%M:%S}: {annotation.text}{tags}")
