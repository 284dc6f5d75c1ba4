"""Turn each flush's report into health points, summed across processes by the rollups.

Every process reports its own flushes; the charts add them up. The points
go through the same buffer and are written by the next flush, which would
report them in turn: a flush that wrote nothing but health points is
therefore not reported, so an idle process adds nothing.
"""

from __future__ import annotations

import logging
from time import time_ns

from monitoring import storage
from monitoring.contrib.health.models import FlushLag, FlushTime, PointCount, SampleCount
from monitoring.sampling import SAMPLE_LISTENERS, SampleReport
from monitoring.storage.buffer import FLUSH_LISTENERS, FlushReport

logger = logging.getLogger("monitoring.contrib.health")

#: Health points this process added and no flush has taken yet.
_own = {"pending": 0}


def record(report: FlushReport) -> None:
    """Add the health points of one flush, unless all it wrote were health points."""
    own, _own["pending"] = _own["pending"], 0
    if report.taken <= own and not (report.rejected or report.dropped):
        return
    now = time_ns()
    added = 0
    for outcome, count in (
        ("taken", report.taken - min(own, report.taken)),
        ("written", max(report.written - own, 0)),
        ("rejected", report.rejected),
        ("dropped", report.dropped),
    ):
        if count:
            storage.record(PointCount, count, now, (outcome,))
            added += 1
    storage.record(FlushTime, report.seconds * 1000, now, None)
    added += 1
    if report.lag is not None:
        storage.record(FlushLag, report.lag * 1000, now, None)
        added += 1
    _own["pending"] += added


def record_sample(report: SampleReport) -> None:
    """Count one sampling of a sampled gauge by its outcome."""
    storage.record(SampleCount, 1, time_ns(), (report.outcome,))


def listen() -> None:
    """Have every flush and every sampling of this process reported (once, whatever the calls)."""
    if record not in FLUSH_LISTENERS:
        FLUSH_LISTENERS.append(record)
    if record_sample not in SAMPLE_LISTENERS:
        SAMPLE_LISTENERS.append(record_sample)
