"""``manage.py monitoring_sample [name ...]``: take one reading of sampled gauges, for cron."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from monitoring.exceptions import NotRegistered
from monitoring.register import monitor
from monitoring.sampling import SampledMonitor


class Command(BaseCommand):
    help = (
        "Take the reading of the current tick of every sampled gauge (monitor.sample()), or "
        "of those named. A tick that has its reading already keeps it. For cron, when the "
        "jobs thread is off (MONITORING_JOBS = False) or as well as it."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("names", nargs="*", metavar="name", help="Sampled gauges to read.")

    def handle(self, *args: Any, names: list[str], **options: Any) -> None:
        sampled = [handle for handle in monitor if isinstance(handle, SampledMonitor)]
        known = ", ".join(handle.name for handle in sampled) or "none"
        handles = []
        for name in names:
            try:
                handle = monitor.get(name)
            except NotRegistered as exc:
                raise CommandError(str(exc)) from None
            if not isinstance(handle, SampledMonitor):
                raise CommandError(
                    f"Monitor {name!r} is not a sampled gauge (monitor.sample()); "
                    f"sampled gauges: {known}."
                )
            handles.append(handle)
        if not names:
            handles = sampled
        if not handles:
            self.stdout.write("No sampled gauges are registered.")
            return
        failed = []
        for handle in handles:
            report = handle.sample()
            at = report.at.isoformat()
            if report.outcome == "ok":
                self.stdout.write(f"{handle.name}: {report.value:g} at {at}")
            elif report.outcome == "taken":
                self.stdout.write(f"{handle.name}: the tick at {at} has its reading already.")
            else:
                failed.append(handle.name)
                self.stderr.write(f"{handle.name}: {report.error}")
        if failed:
            raise CommandError(f"{len(failed)} sampler(s) failed: {', '.join(failed)}.")
