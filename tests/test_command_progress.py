"""Progress of long commands: a bar on a terminal, plain lines elsewhere, nothing at verbosity 0."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import OutputWrapper
from django.utils import timezone

from monitoring.management.progress import Progress, ProgressByName
from monitoring.register import monitor


class FakeTTY(StringIO):
    """A stream that says it is a terminal."""

    def isatty(self):
        return True


def wrapped(stream):
    return OutputWrapper(stream)


def test_plain_lines_at_each_tenth():
    out = StringIO()
    progress = Progress(wrapped(out), "orders", 1000, unit="rows")
    for done in range(1, 1001):
        progress.update(done)
    progress.finish()
    progress.finish()  # twice is once
    lines = out.getvalue().splitlines()
    assert lines == ["orders: 1/1,000 rows (0%)"] + [
        f"orders: {n * 100:,}/1,000 rows ({n * 10}%)" for n in range(1, 11)
    ]


def test_plain_lines_end_with_the_last_count_when_the_work_stops_short():
    out = StringIO()
    progress = Progress(wrapped(out), "prune", 200)
    progress.update(150)
    progress.finish()
    assert out.getvalue().splitlines() == ["prune: 150/200 (75%)", "prune: 150/200 (75%)"]


def test_a_bar_on_a_terminal_redraws_in_place():
    out = FakeTTY()
    progress = Progress(wrapped(out), "orders", 400, unit="rows")
    for done in range(1, 401):
        progress.update(done)
    progress.finish()
    text = out.getvalue()
    # Drawn once per whole percent, each time over the line before it, then the line ends.
    assert text.count("\r") == 101  # 0% to 100%
    assert text.endswith("\rorders [" + "#" * 30 + "] 400/400 rows 100%\x1b[K\n")
    assert "\rorders [" + "#" * 15 + "-" * 15 + "] 200/400 rows 50%\x1b[K" in text
    assert text.count("\n") == 1


def test_unknown_totals_count_up():
    plain, tty = StringIO(), FakeTTY()
    for stream in (plain, tty):
        progress = Progress(wrapped(stream), "checking", None, unit="lines")
        progress.update(100_000)
        progress.update(200_000)
        progress.finish()
    assert plain.getvalue().splitlines() == ["checking: 100,000 lines", "checking: 200,000 lines"]
    assert tty.getvalue() == "\rchecking: 100,000 lines\x1b[K\rchecking: 200,000 lines\x1b[K\n"


def test_disabled_progress_and_empty_jobs_write_nothing():
    for stream in (StringIO(), FakeTTY()):
        progress = Progress(wrapped(stream), "x", 10, enabled=False)
        progress.update(5)
        progress.finish()
        nothing_to_do = Progress(wrapped(stream), "y", 0)
        nothing_to_do.update(0)
        nothing_to_do.finish()
        assert stream.getvalue() == ""


def test_one_bar_per_name_each_on_its_own_line():
    out = FakeTTY()
    bars = ProgressByName(wrapped(out), unit="raw rows")
    bars("orders", 5, 10)
    bars("orders", 10, 10)
    bars("request_time", 3, 6)
    bars.finish()
    lines = out.getvalue().split("\n")
    assert lines[0].endswith("orders [" + "#" * 30 + "] 10/10 raw rows 100%\x1b[K")
    assert lines[1].endswith("request_time [" + "#" * 15 + "-" * 15 + "] 3/6 raw rows 50%\x1b[K")
    assert lines[2] == ""


# -- the commands -----------------------------------------------------------------

T0 = dt.datetime(2024, 6, 3, 12, 0, tzinfo=dt.timezone.utc)


def call(*args, stderr, **kwargs):
    out = StringIO()
    call_command(*args, stdout=out, stderr=stderr, **kwargs)
    return out.getvalue()


@pytest.fixture
def durations(db):
    for i in range(25):
        monitor.get("request_time").add(float(i), at=T0 + dt.timedelta(minutes=i))


@pytest.mark.django_db
def test_rebuild_shows_a_bar_on_a_terminal_and_lines_elsewhere(durations):
    tty = FakeTTY()
    call("monitoring_rebuild", "request_time", "--batch-size", "10", stderr=tty)
    assert tty.getvalue() == (
        "\rrequest_time [############------------------] 10/25 raw rows 40%\x1b[K"
        "\rrequest_time [########################------] 20/25 raw rows 80%\x1b[K"
        "\rrequest_time [##############################] 25/25 raw rows 100%\x1b[K\n"
    )
    plain = StringIO()
    call("monitoring_rebuild", "request_time", "--batch-size", "10", stderr=plain)
    assert plain.getvalue().splitlines()[-1] == "request_time: 25/25 raw rows (100%)"
    quiet = FakeTTY()
    call("monitoring_rebuild", "request_time", "--verbosity", "0", stderr=quiet)
    assert quiet.getvalue() == ""


@pytest.mark.django_db
def test_prune_shows_progress_per_table(monkeypatch):
    from monitoring.storage import maintenance

    monkeypatch.setattr(maintenance, "PRUNE_SLICE", 4)
    now = timezone.now()
    for i in range(10):
        monitor.get("user_count").add(1, at=now - dt.timedelta(days=40, minutes=i))
    plain = StringIO()
    out = call("monitoring_prune", stderr=plain)
    assert "test_app.MonitorUserCount (raw): deleted 10 rows" in out
    lines = plain.getvalue().splitlines()
    assert lines[:3] == [
        "test_app.MonitorUserCount (raw): 4/10 rows (40%)",
        "test_app.MonitorUserCount (raw): 8/10 rows (80%)",
        "test_app.MonitorUserCount (raw): 10/10 rows (100%)",
    ]
    # The minute rollups of those points went too, with a bar of their own on a terminal.
    for i in range(10):
        monitor.get("user_count").add(1, at=now - dt.timedelta(days=40, minutes=i))
    tty = FakeTTY()
    call("monitoring_prune", stderr=tty)
    assert "\rtest_app.MonitorUserCount (raw) [" + "#" * 12 in tty.getvalue()
    assert "10/10 rows 100%\x1b[K\n" in tty.getvalue()


@pytest.mark.django_db
def test_import_and_raw_export_show_progress_on_stderr_only(tmp_path, monkeypatch):
    from monitoring.management.commands import monitoring_import

    monkeypatch.setattr(monitoring_import, "CHECK_STEP", 10)
    lines = ["at,value"] + [f"2024-06-03T12:{i:02d}:00Z,{i}" for i in range(30)]
    path = tmp_path / "in.csv"
    path.write_text("\n".join(lines))
    plain = StringIO()
    out = call("monitoring_import", "request_time", str(path), "--batch-size", "7", stderr=plain)
    assert out.startswith("Imported 30 points")
    assert plain.getvalue().splitlines() == [
        "checking: 10 lines",
        "checking: 20 lines",
        "checking: 30 lines",
        "request_time: writing: 7/30 points (23%)",
        "request_time: writing: 14/30 points (46%)",
        "request_time: writing: 21/30 points (70%)",
        "request_time: writing: 28/30 points (93%)",
        "request_time: writing: 30/30 points (100%)",
    ]
    tty = FakeTTY()
    exported = call(
        "monitoring_export",
        "request_time",
        "--format",
        "raw",
        "--start",
        "2024-06-03",
        "--end",
        "2024-06-04",
        stderr=tty,
    )
    assert exported.splitlines()[0] == "at,value"
    assert len(exported.splitlines()) == 31
    assert "\x1b" not in exported
    assert tty.getvalue().endswith("] 30/30 rows 100%\x1b[K\n")
