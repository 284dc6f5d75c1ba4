"""A process of the exactness test: THREADS threads each add(1) PER_THREAD times.

    python tests/exactness_worker.py THREADS PER_THREAD [--interval SECONDS]

Adds to ``user_count`` with the real clock, through the write buffer with a
short flush interval (so readers see the totals grow), and exits without
calling flush: the timer, size and exit flushes must write every point. It
prints ``added N errors E``; E counts exceptions add() raised to a caller.
"""

import argparse
import os
import sys
import threading
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
    args = parser.parse_args()
    override_settings(MONITORING_BUFFER=True, MONITORING_FLUSH_INTERVAL=args.interval).enable()
    handle = monitor.get(args.name)
    errors = []

    def work() -> None:
        for _ in range(args.per_thread):
            try:
                handle.add(1)
            except Exception as exc:  # counted: a caller must never see one
                errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(args.threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print("added", args.threads * args.per_thread, "errors", len(errors), flush=True)
    for exc in errors[:3]:
        print(repr(exc), file=sys.stderr)


if __name__ == "__main__":
    main()
