"""A separate process that samples the gauge 'race' at a given moment, for the sampling tests.

    python tests/sample_worker.py START_AT VALUE

It waits until the Unix time START_AT, so that two workers sample the same
tick at once, samples, and prints the outcome (ok or taken).
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import django  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "test_app.settings")

django.setup()

from monitoring.register import monitor  # noqa: E402

# 12:00 UTC on 3 June 2024, inside an hour-long tick.
TICK = 1717416000.0


def main() -> None:
    start_at, value = float(sys.argv[1]), float(sys.argv[2])
    handle = monitor.sample("race", lambda: value, every="1h", timeout=None)
    time.sleep(max(0.0, start_at - time.time()))
    print(handle.sample(now=TICK + 5).outcome)


if __name__ == "__main__":
    main()
