"""A process of the exactness test: THREADS threads each add(1) PER_THREAD times.

    python tests/exactness_worker.py THREADS PER_THREAD [--interval SECONDS]
    python tests/exactness_worker.py THREADS 0 --seconds S [--spool DIR]

Adds to ``user_count`` with the real clock, through the write buffer with a
short flush interval (so readers see the totals grow), and exits without
calling flush: the timer, size and exit flushes must write every point. It
prints ``added N errors E``; E counts exceptions add() raised to a caller.
With ``--seconds`` each thread adds about once a millisecond for that long
instead (prints ``started`` first), for the outage tests.
"""

import argparse
import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import django  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "test_app.settings")

django.setup()

from django.test.utils import override_settings  # noqa: E402

from monitoring.register import monitor  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("threads", type=int)
    parser.add_argument("per_thread", type=int)
    parser.add_argument("--interval", type=float, default=0.2)
    parser.add_argument("--name", default="user_count")
    parser.add_argument("--seconds", type=float, default=0.0)
    parser.add_argument("--spool", default=None)
    args = parser.parse_args()
    override_settings(
        MONITORING_BUFFER=True,
        MONITORING_FLUSH_INTERVAL=args.interval,
        MONITORING_SPOOL_DIR=args.spool,
    ).enable()
    handle = monitor.get(args.name)
    errors = []
    added = [0] * args.threads

    def work(n: int) -> None:
        deadline = time.monotonic() + args.seconds
        i = 0
        while i < args.per_thread if not args.seconds else time.monotonic() < deadline:
            try:
                handle.add(1)
            except Exception as exc:  # counted: a caller must never see one
                errors.append(exc)
            else:
                added[n] += 1
            i += 1
            if args.seconds:
                time.sleep(0.001)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(args.threads)]
    for thread in threads:
        thread.start()
    if args.seconds:
        print("started", flush=True)
    for thread in threads:
        thread.join()
    print("added", sum(added), "errors", len(errors), flush=True)
    for exc in errors[:3]:
        print(repr(exc), file=sys.stderr)


if __name__ == "__main__":
    main()
