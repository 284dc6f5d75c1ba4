"""``manage.py monitoring_export NAME``: a monitor's data as CSV or JSON, as its view serves it.

``--format csv`` and ``json`` go through the monitor's own view class, its
form and its hooks, so the output is byte for byte what
``/monitoring/<name>/?format=csv`` (or ``json``) answers for the same
parameters. ``--format raw`` writes the raw rows instead, in the CSV that
``monitoring_import`` reads.
"""

from __future__ import annotations

import contextlib
import csv
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.http import JsonResponse, QueryDict

from monitoring.conf import conf
from monitoring.exceptions import NotRegistered
from monitoring.forms import RANGES, RESERVED_PARAMETERS, MonitorQueryForm, Query
from monitoring.management.progress import Progress
from monitoring.management.rawcsv import RawRows, raw_header, raw_model
from monitoring.register import Monitor, monitor
from monitoring.views.monitors import MonitorView

FORMATS = ("csv", "json", "raw")

#: The options that are query parameters of the view, under the same names.
QUERY_OPTIONS = ("range", "start", "end", "resolution", "split", "top")

#: Lists of accepted values longer than this are left out of error messages.
MAX_LISTED = 25


def monitor_view(handle: Monitor) -> MonitorView:
    """Return an instance of the view class ``handle`` is registered with.

    A view that is not a :class:`MonitorView` (a plain function) has no hooks
    to share; its data is then what a plain ``MonitorView`` would serve.
    """
    view_class = getattr(handle.view, "view_class", None)
    initkwargs = getattr(handle.view, "view_initkwargs", None) or {}
    if isinstance(view_class, type) and issubclass(view_class, MonitorView):
        return view_class(**initkwargs)
    return MonitorView(model=handle.model)


def query_params(options: dict[str, Any]) -> QueryDict:
    """Return the options as the query string the view would get."""
    params = QueryDict(mutable=True)
    for name in QUERY_OPTIONS:
        if options.get(name) is not None:
            params[name] = str(options[name])
    for item in options.get("filter") or []:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise CommandError(f"--filter takes DIMENSION=VALUE, as in plan=pro; got {item!r}.")
        if name in RESERVED_PARAMETERS:
            raise CommandError(
                f"--filter {item!r}: {name!r} is not a dimension; use --{name} for it."
                if name in QUERY_OPTIONS
                else f"--filter {item!r}: {name!r} is not a dimension."
            )
        params.appendlist(name, value)
    return params


def clean_query(handle: Monitor, form_class: type[MonitorQueryForm], params: QueryDict) -> Query:
    """Return the query of ``params``, or raise CommandError naming the option at fault."""
    form = form_class(params, handle=handle)
    if form.is_valid():
        return form.query()
    error = form.error_json()
    name = error["parameter"]
    option = f"--{name}" if name in QUERY_OPTIONS else f"--filter {name}"
    message = f"{option}: {error['error']}"
    allowed = error["allowed"]
    if allowed and len(allowed) <= MAX_LISTED:
        message += f" Accepted: {', '.join(allowed)}."
    raise CommandError(message)


class Command(BaseCommand):
    help = (
        "Write a monitor's data as CSV or JSON, exactly as /monitoring/<name>/?format=csv|json "
        "serves it for the same parameters, or its raw rows as the CSV monitoring_import reads."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("name", help="The monitor to export.")
        parser.add_argument(
            "--format",
            choices=FORMATS,
            default="csv",
            help=(
                "csv: one row per bucket (default); json: the chart data; "
                "raw: the raw rows as at,value,<dimension>... for monitoring_import."
            ),
        )
        parser.add_argument(
            "--range",
            help=f"A window ending now: {', '.join(RANGES)}. Default MONITORING_DEFAULT_RANGE.",
        )
        parser.add_argument(
            "--start", help="ISO 8601 date or date-time; naive means TIME_ZONE. Not with --range."
        )
        parser.add_argument("--end", help="ISO 8601 date or date-time; default now.")
        parser.add_argument(
            "--resolution",
            help="auto (default), minute, 5min, 15min, hour, 3h, 6h, 12h, day or week.",
        )
        parser.add_argument(
            "--split", help="A dimension to split by, or none; default the first dimension."
        )
        parser.add_argument("--top", help="Groups of a split before the rest is 'other' (1-20).")
        parser.add_argument(
            "--filter",
            action="append",
            metavar="DIMENSION=VALUE",
            help="Keep only points with this dimension value; repeat it for more values.",
        )
        parser.add_argument("-o", "--output", help="Write to this file instead of stdout.")

    def handle(self, *args: Any, name: str, format: str, **options: Any) -> None:
        try:
            handle = monitor.get(name)
        except NotRegistered as exc:
            raise CommandError(str(exc)) from None
        view = monitor_view(handle)
        query = clean_query(handle, view.form_class, query_params(options))
        output = options.get("output")
        if format == "raw":
            for option in ("resolution", "split", "top"):
                if options.get(option) is not None:
                    raise CommandError(f"--{option} applies to buckets; --format raw has none.")
            self.export_raw(handle, query, output, options["verbosity"])
            return
        query.format = format
        try:
            series = view.get_series(handle, query)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        data = view.get_data(handle, series, query)
        if format == "json":
            content = JsonResponse(data).content
        else:
            content = view.render_csv(handle, series, data).content
        if output:
            self.write_file(output, content)
        else:
            text = content.decode()
            self.stdout.write(text, ending="" if text.endswith("\n") else "\n")

    def write_file(self, path: str, content: bytes) -> None:
        try:
            with open(path, "wb") as file:
                file.write(content)
        except OSError as exc:
            raise CommandError(f"Cannot write {path}: {exc.strerror or exc}.") from None

    def export_raw(self, handle: Monitor, query: Query, output: str | None, verbosity: int) -> None:
        model = raw_model(handle, "export")
        rows = RawRows(model, query.start, query.end, query.filters, using=conf.DATABASE)
        progress = Progress(
            self.stderr, handle.name, rows.count(), unit="rows", enabled=verbosity > 0
        )
        with contextlib.ExitStack() as stack:
            if output:
                try:
                    stream: Any = stack.enter_context(
                        open(output, "w", newline="", encoding="utf-8")
                    )
                except OSError as exc:
                    raise CommandError(f"Cannot write {output}: {exc.strerror or exc}.") from None
            else:
                stream = _Lines(self.stdout)
            writer = csv.writer(stream, lineterminator="\n")
            writer.writerow(raw_header(handle.model))
            done = 0
            for row in rows:
                writer.writerow(row)
                done += 1
                if done % 1000 == 0:
                    progress.update(done)
            progress.update(done)
            progress.finish()


class _Lines:
    """A file-like front for a command's stdout: csv writes whole lines, passed on as they are."""

    def __init__(self, out: Any):
        self.out = out

    def write(self, text: str) -> int:
        self.out.write(text, ending="")
        return len(text)
