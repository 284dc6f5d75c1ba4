"""A separate process that evaluates alert rules, for the concurrency test of tests/test_alerts.py.

    python tests/alerts_worker.py DIRECTORY INDEX MINUTES

It registers the rule ``signups`` (``user_count`` summed over 5 minutes,
above 0), then for each minute after 2024-06-03 12:00 UTC in the
comma-separated MINUTES evaluates every rule "as of" then. Before each step
it waits for the other worker at a barrier of files in DIRECTORY, so both
evaluate the same step at the same time. Emails go to files in
DIRECTORY/mail.

Both workers also meet where a race would hurt, so that the test does not
depend on luck: after reading the rule's state and before moving it on
(around ``alerts._next_state``), and after reading the unsent transitions
and before claiming them (around ``alerts._unsent``, once both have
finished evaluating). Each has thus read what the other is about to change,
and only the compare-and-sets keep them from both recording or sending.
"""

import datetime as dt
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import django  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "test_app.settings")

django.setup()

from django.test.utils import override_settings  # noqa: E402

from monitoring import alerts  # noqa: E402
from monitoring.alerts import Rule, evaluate  # noqa: E402
from monitoring.register import monitor  # noqa: E402
from tests.conftest import mailer_settings  # noqa: E402

T0 = dt.datetime(2024, 6, 3, 12, 0, tzinfo=dt.timezone.utc)
WORKERS = 2


def barrier(directory: Path, step: str, index: int) -> None:
    """Wait until every worker has reached ``step``."""
    (directory / f"step-{step}-{index}").touch()
    deadline = time.monotonic() + 60
    while not all((directory / f"step-{step}-{i}").exists() for i in range(WORKERS)):
        if time.monotonic() > deadline:
            raise SystemExit(f"worker {index}: the other worker never reached step {step}")
        time.sleep(0.005)


def meet_between_reads_and_writes(directory: Path, index: int) -> None:
    """Have both workers read the state, and the unsent emails, before either writes."""
    next_state, unsent = alerts._next_state, alerts._unsent
    calls = {"state": 0, "unsent": 0}

    def meeting_next_state(*args, **kwargs):
        new = next_state(*args, **kwargs)
        calls["state"] += 1
        barrier(directory, f"state-{calls['state']}", index)
        return new

    def meeting_unsent(*args, **kwargs):
        calls["unsent"] += 1
        # Both have recorded (or failed to record) the step's transition...
        barrier(directory, f"evaluated-{calls['unsent']}", index)
        found = unsent(*args, **kwargs)
        # ... and both have read it as unsent before either claims it.
        barrier(directory, f"unsent-{calls['unsent']}", index)
        return found

    alerts._next_state = meeting_next_state
    alerts._unsent = meeting_unsent


def main() -> None:
    directory, index, minutes = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3].split(",")
    override_settings(
        **mailer_settings(
            "django.core.mail.backends.filebased.EmailBackend", file_path=str(directory / "mail")
        ),
        MONITORING_ALERT_EMAILS=["ops@example.com"],
    ).enable()
    monitor._alerts = {}
    monitor.alert("signups", Rule("user_count", stat="sum", above=0, window="5m"))
    meet_between_reads_and_writes(directory, index)
    for step, minute in enumerate(minutes):
        barrier(directory, str(step), index)
        evaluate(T0 + dt.timedelta(minutes=int(minute)))
    print(f"evaluated {len(minutes)} steps", flush=True)


if __name__ == "__main__":
    main()
