#!/usr/bin/env python
"""Run the fuzz tests long: 10,000 examples each, on SQLite and on PostgreSQL, time-bounded.

    .venv/bin/python bench/fuzz.py      # SQLite, then PostgreSQL if PGHOST is set
    .venv/bin/python bench/fuzz.py --backends sqlite --examples 2000 --timeout 600

Runs tests/test_fuzz.py (``-m heavy``) once per backend in a pytest subprocess
with ``MONITORING_FUZZ_EXAMPLES`` set: the query fuzz in its two site time
zones (Europe/Berlin and America/St_Johns) and the ``add()`` fuzz. The query
fuzz covers every view: the dashboard and its ``part``, the monitors of every
kind (count, duration, gauge, ``register_model`` table, sampled gauge) in each
format, ``/monitoring/metrics`` with its token and ``/monitoring/health``. PostgreSQL
is the server the usual PG* variables name (pytest-django creates and drops
its test database there). Each backend's run is bounded by ``--timeout``
seconds: then it gets SIGINT, so the tests report how many examples they had
run, and SIGKILL 60 s later if it has not stopped. Printed per test: the
examples run (counted by the tests themselves, through
``MONITORING_FUZZ_REPORT``), the outcome and the duration; the exit status is
1 if any test failed or timed out.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_backend(backend: str, examples: int, timeout: float) -> list[list[str]]:
    """Run the fuzz tests on one backend; return a row per test for the table."""
    with tempfile.TemporaryDirectory() as directory:
        report = Path(directory) / "examples.tsv"
        junit = Path(directory) / "junit.xml"
        env = {
            **os.environ,
            "MONITORING_FUZZ_EXAMPLES": str(examples),
            "MONITORING_FUZZ_REPORT": str(report),
        }
        env.pop("MONITORING_TEST_DB", None)
        if backend == "postgres":
            env["MONITORING_TEST_DB"] = "postgres"
        command = [sys.executable, "runtests.py", "-q", "-m", "heavy", "-p", "no:cacheprovider",
                   f"--junitxml={junit}", "tests/test_fuzz.py"]  # fmt: skip
        began = time.monotonic()
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        timed_out = False
        try:
            output, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            process.send_signal(signal.SIGINT)
            try:
                output, _ = process.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                output, _ = process.communicate()
        elapsed = time.monotonic() - began
        counts = {}
        if report.exists():
            for line in report.read_text().splitlines():
                nodeid, count = line.rsplit("\t", 1)
                counts[nodeid] = int(count)
        outcomes = {}
        if junit.exists():
            for case in ET.parse(junit).iter("testcase"):
                if not case.get("name"):
                    continue  # pytest's record of the interruption, not a test
                nodeid = f"tests/test_fuzz.py::{case.get('name')}"
                failed = case.find("failure") is not None or case.find("error") is not None
                skipped = case.find("skipped") is not None
                outcome = "FAILED" if failed else "skipped" if skipped else "passed"
                outcomes[nodeid] = (outcome, float(case.get("time", 0)))
    rows = []
    for nodeid in sorted(set(counts) | set(outcomes)):
        outcome, seconds = outcomes.get(nodeid, ("interrupted", 0.0))
        if timed_out and outcome != "passed":
            outcome = "timed out"
        test = nodeid.split("::", 1)[1]
        rows.append([backend, test, f"{counts.get(nodeid, 0):,}", outcome, f"{seconds:.0f} s"])
    if not rows or process.returncode not in (0,) and not timed_out:
        # Nothing to show per test, or pytest failed beyond the tests: show its output.
        print(output[-4000:], file=sys.stderr)
    if not rows:
        rows.append([backend, "(no test ran)", "0", f"exit {process.returncode}", ""])
    rows.append([backend, "(whole run, Django setup included)", "", "", f"{elapsed:.0f} s"])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--examples", type=int, default=10_000, help="per test")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds per backend")
    parser.add_argument("--backends", default="sqlite,postgres", help="comma-separated")
    args = parser.parse_args()
    backends = args.backends.split(",")
    unknown = set(backends) - {"sqlite", "postgres"}
    if unknown:
        parser.error(f"--backends: unknown {', '.join(sorted(unknown))} (sqlite, postgres)")
    if "postgres" in backends and not os.environ.get("PGHOST"):
        print("PostgreSQL left out: PGHOST (and PGPORT, PGUSER) name no server", file=sys.stderr)
        backends.remove("postgres")
    load = os.getloadavg()
    print(f"Fuzz: {args.examples:,} examples per test, at most {args.timeout:.0f} s per backend; "
          f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}", flush=True)  # fmt: skip
    rows = []
    for backend in backends:
        rows += run_backend(backend, args.examples, args.timeout)
    header = ["backend", "test", "examples", "outcome", "duration"]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    bad = [r for r in rows if r[3] and r[3] not in ("passed",)]
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
