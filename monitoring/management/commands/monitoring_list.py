"""``manage.py monitoring_list [--format table|json]``: every monitor and how it is doing."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.core.management.base import BaseCommand
from django.db.models import Sum
from django.utils import timezone

from monitoring.buckets import floor_bucket, site_timezone
from monitoring.conf import conf
from monitoring.register import monitor

COLUMNS = ["name", "kind", "category", "last_value", "points_today", "last_write"]


def _number(value: float | None) -> int | float | None:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


def monitor_rows(now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Return one dict per monitor in dashboard order, read from the day rollups.

    ``points_today`` counts the points added since midnight in the site's time
    zone; ``last_value`` is the value of the newest point and ``last_write``
    when it was added (aware, in the site's time zone), both None for a
    monitor without data.
    """
    from monitoring.models import Rollup

    day = Rollup.objects.using(conf.DATABASE).filter(resolution="day")
    today = int(floor_bucket(now or timezone.now(), "day").timestamp())
    points = dict(
        day.filter(start=today)
        .values("monitor")
        .annotate(n=Sum("count"))
        .values_list("monitor", "n")
    )
    # The newest point is in each monitor's newest day: of that day's rows (one per
    # dimension key), the one with the largest last_at holds it (ties: the larger id).
    newest: dict[str, tuple[int, float]] = {}
    rows = day.order_by("monitor", "-start", "-last_at", "-id").values_list(
        "monitor", "start", "last_at", "last"
    )
    latest_day: dict[str, int] = {}
    for name, start, at, value in rows.iterator():
        if latest_day.setdefault(name, start) != start:
            continue
        if name not in newest or at > newest[name][0]:
            newest[name] = (at, value)
    zone = site_timezone()
    result = []
    for handle in monitor:
        if not handle.stored:
            # A chart of an existing table: its rows today and its newest row, from the table.
            from monitoring.tables import today

            result.append({"name": handle.name, "kind": handle.kind, **today(handle, now)})
            result[-1]["category"] = handle.category or ""
            continue
        at, value = newest.get(handle.name, (None, None))
        result.append(
            {
                "name": handle.name,
                "kind": handle.kind,
                "category": handle.category or "",
                "last_value": _number(value),
                "points_today": points.get(handle.name, 0),
                "last_write": (
                    dt.datetime.fromtimestamp(at / 1e6, dt.timezone.utc).astimezone(zone)
                    if at is not None
                    else None
                ),
            }
        )
    return result


class Command(BaseCommand):
    help = (
        "List every registered monitor: kind, category, last value, points added today "
        "(in TIME_ZONE) and when the last one was added."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--format",
            choices=["table", "json"],
            default="table",
            help="A table for people (default) or JSON for scripts.",
        )

    def handle(self, *args: Any, format: str, **options: Any) -> None:
        rows = monitor_rows()
        if format == "json":
            for row in rows:
                if row["last_write"] is not None:
                    row["last_write"] = row["last_write"].isoformat()
            self.stdout.write(json.dumps(rows, indent=2))
            return
        if not rows:
            self.stdout.write("No monitors are registered.")
            return
        cells = [
            [
                row["name"],
                row["kind"],
                row["category"],
                "–" if row["last_value"] is None else str(row["last_value"]),
                str(row["points_today"]),
                "never" if row["last_write"] is None else f"{row['last_write']:%Y-%m-%d %H:%M:%S}",
            ]
            for row in rows
        ]
        headers = ["NAME", "KIND", "CATEGORY", "LAST VALUE", "TODAY", "LAST WRITE"]
        widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]
        for line in [headers, *cells]:
            self.stdout.write(
                "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip()
            )
        self.stdout.write(f"Times in {site_timezone()}.")
