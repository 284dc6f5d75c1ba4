#!/usr/bin/env python
"""Benchmark the dashboard in headless Chromium: lazy cards against fetching every card at once.

    .venv/bin/python bench/dashboard.py [--runs 5] [--days 90]

Sets up 50 monitors (25 counts, 15 gauges, 10 durations in 5 categories)
with --days of data every 10 minutes in a throwaway SQLite database, serves
the test_app on 127.0.0.1 in a subprocess, and opens /monitoring/ in
Playwright-driven Chromium (/usr/bin/chromium), alternating:

- baseline: every card fetched at once (IntersectionObserver replaced by one
  that says every card is visible), what a dashboard without lazy loading does;
- lazy: the dashboard as shipped (its first cards rendered into the page,
  the others fetched as they come into view).

It prints, per variant, the median over the runs of the time from navigation
start to the first chart drawn and to the last chart in the viewport drawn,
and the ratio lazy / baseline measured in this same run. ``--compare
CHECKOUT`` also opens, interleaved, another checkout's dashboard (say a
``git worktree`` of the previous commit, its static files built) served on
the same data, and prints this checkout's first visits against it.

Then it times a count, a gauge and a duration monitor split by a dimension
with 1,000 distinct values (``top=5``, 90 days, ``get_series`` as the view
calls it) and filtered to one of its values, against the same chart
unsplit, in interleaved rounds, and prints the medians, their spread and the
ratios (target for the split: within 3x). ``--split-only`` runs just that part.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "test_app.settings")
os.environ.setdefault("DJANGO_DEBUG", "0")

from tests.chromium import CHROMIUM, CHROMIUM_ARGS  # noqa: E402 - needs ROOT on sys.path

KINDS = [("count", 25), ("value", 15), ("duration", 10)]
CATEGORIES = ["Business", "Users", "Queues", "Servers", "Requests"]
VIEWPORT = {"width": 1400, "height": 900}

# Record when each card's chart canvas appears, from the first script on.
RECORDER = """
window.__drawn = {};
new MutationObserver(records => {
  const now = performance.now();
  for (const record of records) {
    for (const node of record.addedNodes) {
      if (node.nodeType !== 1) continue;
      const canvas = node.matches('canvas') ? node : node.querySelector('canvas');
      if (!canvas) continue;
      const card = canvas.closest('.monitoring-card');
      if (card && !(card.id in window.__drawn)) window.__drawn[card.id] = now;
    }
  }
}).observe(document, {childList: true, subtree: true});
"""

# The baseline, a dashboard without lazy loading: cards.js sees no card come into view,
# and every card is fetched at once when the page is ready, then drawn by chart.js.
EAGER = """
window.IntersectionObserver = class { observe() {} unobserve() {} disconnect() {} };
document.addEventListener('DOMContentLoaded', () => {
  const $ = window.jQuery;
  const range = $('main.monitoring').attr('data-range');
  $('.monitoring-card').each(function () {
    const $card = $(this);
    $.get($card.attr('data-url'), {range: range}, html => {
      $card.find('.monitoring-card-body').html(html);
      this.dispatchEvent(new CustomEvent('monitoring:card-loaded', {bubbles: true}));
    }, 'html');
  });
});
"""


def setup_django(db_path: str) -> None:
    import django
    from django.conf import settings

    settings.DATABASES["default"]["NAME"] = db_path
    django.setup()


def define_monitors() -> list:
    """Replace the test_app monitors with 50 bench monitors on models of their own."""
    from django.db import models

    from monitoring.models import DurationBase, FloatValueBase, IntegerCountBase
    from monitoring.register import monitor
    from monitoring.views import DurationView, IntegerCountView, ValueView

    for handle in list(monitor):
        monitor.unregister(handle.name)
    bases = {
        "count": (IntegerCountBase, IntegerCountView),
        "value": (FloatValueBase, ValueView),
        "duration": (DurationBase, DurationView),
    }
    made = []
    n = 0
    for kind, how_many in KINDS:
        base, view = bases[kind]
        for i in range(how_many):
            meta = type("Meta", (), {"app_label": "test_app", "db_table": f"bench_{kind}_{i}"})
            model = type(
                f"Bench{kind.title()}{i}",
                (base,),
                {"__module__": __name__, "Meta": meta, "objects": models.Manager()},
            )
            monitor.register(
                f"{kind}_{i}",
                view.as_view(model=model),
                title=f"{kind.title()} {i}",
                category=CATEGORIES[n % len(CATEGORIES)],
                order=n,
                unit={"count": "", "value": "jobs", "duration": "ms"}[kind],
            )
            made.append(model)
            n += 1
    return made


def staff_session() -> str:
    """Migrate, create a staff user and return its session key (before define_monitors)."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client

    call_command("migrate", interactive=False, verbosity=0)
    user = get_user_model().objects.create_user("bench", is_staff=True, password="x")
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def fill(models_: list, days: int) -> None:
    """Create the bench tables and fill them with data every 10 minutes."""
    import datetime as dt
    import math
    import random

    from django.db import connection, transaction
    from django.utils import timezone

    rng = random.Random(4)
    end = timezone.now()
    steps = days * 144
    with connection.schema_editor() as editor:
        for model in models_:
            editor.create_model(model)
    with transaction.atomic():
        for model in models_:
            rows = []
            for step in range(steps):
                at = end - dt.timedelta(minutes=10 * step)
                wave = 1 + math.sin(step / 144 * 2 * math.pi)
                if model.kind == "count":
                    value = rng.randint(0, int(4 * wave) + 1)
                elif model.kind == "value":
                    value = round(10 * wave + rng.random(), 2)
                else:
                    value = round(rng.lognormvariate(4.5, 0.5), 1)
                rows.append(model(value=value, created=at))
            model.objects.bulk_create(rows, batch_size=5000)
    ensure_visible(models_)


def ensure_visible(models_: list) -> None:
    """Make sure the charts see the bulk-inserted rows, rebuilding rollups if the app has them.

    The rows go straight into the raw tables; a storage engine that charts from
    rollups needs them recomputed (with its rebuild command) before the bench.
    """
    from django.core.management import call_command, get_commands

    from monitoring.register import monitor

    def visible() -> bool:
        handle = monitor.get_for_model(models_[0])
        return bool(handle.series(resolution="hour").summary)

    if visible():
        return
    for name, app in sorted(get_commands().items()):
        if app == "monitoring" and "rebuild" in name:
            call_command(name, verbosity=0)
            break
    if not visible():
        raise SystemExit("The bench data is not visible to get_series(); rebuild the rollups.")


def split_bench(runs: int, days: int = 90, values: int = 1000, kind: str = "count") -> None:
    """Time a monitor of ``kind`` split by ``values`` distinct values, top 5, against unsplit."""
    import datetime as dt
    import random

    from django.db import connection, models, transaction
    from django.utils import timezone

    from monitoring.buckets import floor_bucket
    from monitoring.models import (
        DurationBase,
        FloatValueBase,
        IntegerCountBase,
        Rollup,
        RollupBin,
    )
    from monitoring.queries import get_series
    from monitoring.register import monitor
    from monitoring.storage.rollups import bin_of, dimension_key
    from monitoring.views import DurationView, IntegerCountView, ValueView

    base, view = {
        "count": (IntegerCountBase, IntegerCountView),
        "value": (FloatValueBase, ValueView),
        "duration": (DurationBase, DurationView),
    }[kind]
    name = f"split_bench_{kind}"
    meta = type("Meta", (), {"app_label": "test_app", "db_table": name})
    model = type(
        f"BenchSplit{kind.title()}",
        (base,),
        {
            "__module__": __name__,
            "Meta": meta,
            "objects": models.Manager(),
            "customer": models.CharField(max_length=20, default=""),
        },
    )
    with connection.schema_editor() as editor:
        editor.create_model(model)
    monitor.register(name, view.as_view(model=model))
    # Rollups as the writer leaves them: per hour and per day, for twice the range (the
    # headline reads the period before too). Customers are Zipf-like: a few place most
    # orders, each hour 30 of them order (or report a reading, or are timed a few times).
    rng = random.Random(9)
    weights = [1 / (rank + 1) for rank in range(values)]
    customers = [f"c{rank:04d}" for rank in range(values)]
    end = timezone.now()
    hour = floor_bucket(end, "hour")
    rows: dict[tuple[str, int, str], list] = {}
    bins: dict[tuple[str, int, str, int], int] = {}
    started = time.perf_counter()
    for step in range(2 * days * 24):
        at = hour - dt.timedelta(hours=step)
        starts = {"hour": int(at.timestamp()), "day": int(floor_bucket(at, "day").timestamp())}
        for customer in set(rng.choices(customers, weights, k=30)):
            key = dimension_key(["customer"], [customer])
            last_at = int(at.timestamp()) * 1_000_000
            if kind == "count":
                points = [1.0] * rng.randint(1, 5)
            else:
                points = [rng.uniform(1, 500) for _ in range(rng.randint(1, 3))]
            for resolution, start in starts.items():
                row = rows.get((resolution, start, key))
                if row is None:
                    row = rows[resolution, start, key] = [0, 0.0, points[0], points[0], 0, 0]
                row[0] += len(points)
                row[1] += sum(points)
                row[2], row[3] = min(row[2], *points), max(row[3], *points)
                if last_at >= row[5]:
                    row[4], row[5] = points[-1], last_at
                if kind == "duration":
                    for point in points:
                        index = (resolution, start, key, bin_of(point))
                        bins[index] = bins.get(index, 0) + 1
    with transaction.atomic():
        Rollup.objects.bulk_create(
            (
                Rollup(
                    monitor=name, resolution=resolution, start=start, dimensions=key,
                    count=count, sum=sum_, min=min_, max=max_, last=last, last_at=last_at,
                )
                for (resolution, start, key), (count, sum_, min_, max_, last, last_at)
                in rows.items()
            ),
            batch_size=5000,
        )  # fmt: skip
        RollupBin.objects.bulk_create(
            (
                RollupBin(
                    monitor=name, resolution=resolution, start=start, dimensions=key,
                    bin=index, count=count,
                )
                for (resolution, start, key, index), count in bins.items()
            ),
            batch_size=5000,
        )  # fmt: skip
    print(
        f"\nsplit bench, {kind}: {values:,} customers, {len(rows):,} rollup rows"
        f"{f' and {len(bins):,} bins' if bins else ''} over {2 * days} days "
        f"({time.perf_counter() - started:.0f} s to fill)"
    )
    start = end - dt.timedelta(days=days)
    variants = {
        "unsplit": {},
        f"split, top 5 of {values:,}": {"split_by": "customer", "top": 5},
        "filtered to 1 value": {"filters": {"customer": customers[3]}},
    }
    times: dict[str, list[float]] = {variant: [] for variant in variants}
    for kwargs in variants.values():  # warm up once each
        get_series(name, start=start, end=end, **kwargs)
    for _ in range(runs):
        for variant, kwargs in variants.items():
            began = time.perf_counter()
            series = get_series(name, start=start, end=end, **kwargs)
            times[variant].append((time.perf_counter() - began) * 1000)
            if "split_by" in kwargs:
                assert len(series.groups) == 6, series.groups  # top 5 and other
    medians = {variant: statistics.median(values_) for variant, values_ in times.items()}
    print(f"get_series over {days} days ({series.resolution} buckets), median of {runs}:")
    for variant, values_ in times.items():
        print(
            f"  {variant:24} {medians[variant]:8.1f} ms  (spread {min(values_):.1f} to "
            f"{max(values_):.1f} ms)"
        )
    split, unsplit = medians[f"split, top 5 of {values:,}"], medians["unsplit"]
    ratio = split / unsplit
    print(f"  split / unsplit: {ratio:.2f}; target <= 3: {'met' if ratio <= 3 else 'MISSED'}")
    filtered = medians["filtered to 1 value"] / unsplit
    print(f"  filtered / unsplit: {filtered:.2f}")


def split_benches(runs: int, days: int) -> None:
    """Run :func:`split_bench` for a count, a gauge and a duration."""
    for kind in ("count", "value", "duration"):
        split_bench(runs, days, kind=kind)


def serve(db_path: str, port: int) -> None:
    """Serve the test_app with the bench monitors, as runserver would, until killed."""
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
    from django.core.wsgi import get_wsgi_application

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, *args):
            pass

    class CachedStatic(StaticFilesHandler):
        # Static files for an hour, as a production static server (nginx, WhiteNoise) sends them.
        def get_response(self, request):
            response = super().get_response(request)
            response["Cache-Control"] = "max-age=3600"
            return response

    setup_django(db_path)
    define_monitors()
    # A browser that navigates away mid-request is expected here, not news.
    logging.getLogger("django.server").setLevel(logging.CRITICAL)
    server = ThreadedWSGIServer(("127.0.0.1", port), QuietHandler)
    server.set_app(CachedStatic(get_wsgi_application()))
    server.serve_forever()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"The bench server did not start on port {port}.")


def measure(browser, base_url: str, session: str, eager: bool, warm: bool) -> dict[str, float]:
    """Open the dashboard in a new browser context; ``warm`` opens it twice, timing the second."""
    context = browser.new_context(viewport=VIEWPORT)
    context.add_cookies([{"name": "sessionid", "value": session, "url": base_url}])
    page = context.new_page()
    page.add_init_script(RECORDER)
    if eager:
        page.add_init_script(EAGER)
    if warm:
        page.goto(f"{base_url}/monitoring/?range=7d")
        page.wait_for_function("() => Object.keys(window.__drawn).length > 0", timeout=120_000)
    page.goto(f"{base_url}/monitoring/?range=7d")
    # The cards in the viewport when the page opened; the last of them is what a user waits for.
    in_view = page.evaluate(
        "() => [...document.querySelectorAll('.monitoring-card')]"
        ".filter(c => c.getBoundingClientRect().top < innerHeight).map(c => c.id)"
    )
    page.wait_for_function(
        "ids => ids.every(id => id in window.__drawn)", arg=in_view, timeout=120_000
    )
    if eager:
        page.wait_for_function(
            "n => Object.keys(window.__drawn).length >= n", arg=50, timeout=300_000
        )
    drawn = page.evaluate("window.__drawn")
    if os.environ.get("BENCH_DEBUG"):
        print(
            page.evaluate("""() => {
            const nav = performance.getEntriesByType('navigation')[0];
            const res = performance.getEntriesByType('resource').map(
                e => [e.name.split('/').slice(-2).join('/'), Math.round(e.startTime),
                      Math.round(e.responseStart), Math.round(e.responseEnd)]);
            return {doc: Math.round(nav.responseEnd), dcl: Math.round(nav.domContentLoadedEventEnd),
                    res: res.slice(0, 16)};
        }""")
        )
    requested = page.evaluate(
        "() => performance.getEntriesByType('resource')"
        ".filter(e => /\\/monitoring\\/[a-z_0-9]+\\/\\?/.test(e.name)).length"
    )
    context.close()
    return {
        "first": min(drawn.values()),
        "viewport": max(drawn[card] for card in in_view),
        "cards_in_view": len(in_view),
        "requests": requested,
    }


def server_times(session: str, runs: int) -> None:
    """Print the server's CPU time for the dashboard page and for one card of each kind.

    In this process, through Django's test client, interleaved: what the page
    costs before the browser gets its first byte, and what each card costs.
    """
    from django.test import Client

    client = Client()
    client.cookies["sessionid"] = session
    urls = {
        "dashboard page": "/monitoring/?range=7d",
        "count card": "/monitoring/count_0/?range=7d&format=card",
        "gauge card": "/monitoring/value_0/?range=7d&format=card",
        "duration card": "/monitoring/duration_0/?range=7d&format=card",
    }
    times: dict[str, list[float]] = {name: [] for name in urls}
    for url in urls.values():  # warm up
        assert client.get(url).status_code == 200, url
    for _ in range(runs):
        for name, url in urls.items():
            began = time.thread_time()
            client.get(url)
            times[name].append((time.thread_time() - began) * 1000)
    print(f"server CPU time per request, median of {runs} (spread):")
    for name, values in times.items():
        print(
            f"  {name:16} {statistics.median(values):6.1f} ms ({min(values):.1f}-{max(values):.1f})"
        )


COMPARED = "other checkout, first visit"


def report_compared(
    ours: list[dict[str, float]], theirs: list[dict[str, float]], checkout: str
) -> None:
    """Print first visits of this checkout against those of ``--compare``, same run."""
    print(f"first visit, this checkout against {checkout} (median of {len(ours)}, spread):")
    for key, name in [("first", "first chart"), ("viewport", "viewport")]:
        mine = [run[key] for run in ours]
        other = [run[key] for run in theirs]
        print(
            f"  {name:12} {statistics.median(mine):6.0f} ms ({min(mine):.0f}-{max(mine):.0f}) "
            f"against {statistics.median(other):6.0f} ms ({min(other):.0f}-{max(other):.0f}): "
            f"{statistics.median(mine) / statistics.median(other):.2f}"
        )


def report(results: dict[str, list[dict[str, float]]], rounds: int) -> None:
    """Print the medians of each variant and the ratios lazy / baseline."""
    medians = {
        variant: {key: statistics.median(run[key] for run in runs) for key in runs[0]}
        for variant, runs in results.items()
    }
    print(
        f"viewport {VIEWPORT['width']}x{VIEWPORT['height']}, range 7d, median of {rounds} "
        "(spread: min to max)"
    )
    print(f"{'':24} {'first chart':>24} {'viewport':>24} {'cards in view':>14} {'requests':>9}")
    for variant, m in medians.items():
        spread = {
            key: f"({min(run[key] for run in results[variant]):.0f}-"
            f"{max(run[key] for run in results[variant]):.0f})"
            for key in ("first", "viewport")
        }
        print(
            f"{variant:24} {m['first']:>7.0f} ms {spread['first']:>13} "
            f"{m['viewport']:>7.0f} ms {spread['viewport']:>13} "
            f"{m['cards_in_view']:>14.0f} {m['requests']:>9.0f}"
        )
    for visit in ["first visit", "repeat visit"]:
        base, lazy = medians[f"baseline, {visit}"], medians[f"lazy, {visit}"]
        print(
            f"{visit}: lazy / baseline: first chart {lazy['first'] / base['first']:.2f}, "
            f"viewport {lazy['viewport'] / base['viewport']:.2f}; targets: first chart <= 300 ms "
            f"{'met' if lazy['first'] <= 300 else 'MISSED'}, viewport <= 1000 ms "
            f"{'met' if lazy['viewport'] <= 1000 else 'MISSED'}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--serve", nargs=2, metavar=("DB", "PORT"), help=argparse.SUPPRESS)
    parser.add_argument(
        "--split-only", action="store_true", help="time only the split-by-1,000 chart"
    )
    parser.add_argument(
        "--compare",
        metavar="CHECKOUT",
        help="also time first visits of another checkout's dashboard (static files built) "
        "on the same data, interleaved, e.g. a `git worktree` of the previous commit",
    )
    args = parser.parse_args()
    if args.serve:
        serve(args.serve[0], int(args.serve[1]))
        return
    if args.split_only:
        with tempfile.TemporaryDirectory() as tmp:
            setup_django(str(Path(tmp) / "bench.sqlite3"))
            staff_session()  # migrates
            split_benches(max(args.runs, 7), args.days)
        return

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        db_path = str(Path(tmp) / "bench.sqlite3")
        setup_django(db_path)
        started = time.perf_counter()
        session = staff_session()
        fill(define_monitors(), args.days)
        print(f"50 monitors x {args.days} days ({time.perf_counter() - started:.0f} s to fill)")
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, __file__, "--serve", db_path, str(port)],
            env={**os.environ, "DJANGO_DEBUG": "0"},
        )
        other = other_url = None
        if args.compare:
            checkout = Path(args.compare).resolve()
            other_port = free_port()
            other_url = f"http://127.0.0.1:{other_port}"
            other = subprocess.Popen(
                [
                    sys.executable,
                    str(checkout / "bench" / "dashboard.py"),
                    *("--serve", db_path, str(other_port)),
                ],
                env={**os.environ, "DJANGO_DEBUG": "0"},
                cwd=checkout,
            )
        try:
            wait_for(port)
            base_url = f"http://127.0.0.1:{port}"
            results: dict[str, list[dict[str, float]]] = {
                "baseline, first visit": [],
                "lazy, first visit": [],
                "baseline, repeat visit": [],
                "lazy, repeat visit": [],
            }
            if other is not None:
                wait_for(other_port)
                results[COMPARED] = []
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
                )
                measure(browser, base_url, session, eager=False, warm=False)  # warm the server
                if other_url:
                    measure(browser, other_url, session, eager=False, warm=False)
                for _ in range(args.runs):
                    for variant in results:
                        eager = variant.startswith("baseline")
                        warm = variant.endswith("repeat visit")
                        url = other_url if variant == COMPARED else base_url
                        results[variant].append(measure(browser, url, session, eager, warm))
                browser.close()
        finally:
            for process in (server, other):
                if process is not None:
                    process.terminate()
                    process.wait(timeout=30)
        compared = results.pop(COMPARED, None)
        report(results, args.runs)
        if compared:
            report_compared(results["lazy, first visit"], compared, args.compare)
        server_times(session, max(args.runs, 7))
        split_benches(max(args.runs, 7), args.days)


if __name__ == "__main__":
    main()
