"""The on-disk spool: points a process could not write before it exited, kept for the next one.

With ``MONITORING_SPOOL_DIR`` set, the exit flush that finds the database
still unavailable writes the points it holds to a file in that directory
instead of losing them, and the next process that flushes (its background
thread, or ``monitor.flush()``) takes the files back into its buffer and
writes them. The same two functions of this module do both: :func:`save`
and :func:`take`.

A file is written under a temporary name and renamed into place, so a
reader never sees half a file; a reader claims a file by renaming it, so two
processes never take the same points. The spool holds at most
``MONITORING_SPOOL_MAX`` points over all its files; points past the bound
are lost, and the exit message says how many.

Each file is JSON lines: a header, then one point per line as
``[model label, value, Unix time in ns, dimension values]``. Dimension
values JSON can't carry as they are (dates, decimals, UUIDs) are written as
their text and read back through the field's ``to_python()``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
import uuid
from pathlib import Path
from typing import Any

__all__ = ["pending", "save", "take"]

logger = logging.getLogger("monitoring.storage")

VERSION = 1
SUFFIX = ".points"
_PLAIN = (str, int, float, bool, type(None))


def _files(directory: Path) -> list[tuple[Path, int]]:
    """Return the spool files of ``directory``, oldest first, with the points each holds."""
    found = []
    with contextlib.suppress(FileNotFoundError):
        for entry in os.scandir(directory):
            if not entry.name.endswith(SUFFIX):
                continue
            # <time_ns>-<pid>-<count>-<random>.points
            parts = entry.name.split("-")
            try:
                found.append((int(parts[0]), Path(entry.path), int(parts[2])))
            except (IndexError, ValueError):
                continue
    return [(path, count) for _, path, count in sorted(found)]


def pending(directory: str | os.PathLike) -> int:
    """Return how many points the spool in ``directory`` holds."""
    return sum(count for _, count in _files(Path(directory)))


def save(points: list[tuple], directory: str | os.PathLike, limit: int) -> int:
    """Write ``points`` (buffered points) to a new file of the spool; return how many it kept.

    At most ``limit`` points stay in the whole spool: the oldest of ``points``
    are kept, the rest are not written.
    """
    from monitoring.storage.writer import MODELS

    directory = Path(directory)
    room = max(0, limit - pending(directory))
    points = points[:room]
    if not points:
        return 0
    directory.mkdir(parents=True, exist_ok=True)
    name = f"{time.time_ns()}-{os.getpid()}-{len(points)}-{uuid.uuid4().hex[:8]}{SUFFIX}"
    temporary = directory / f".{name}.tmp"
    with open(temporary, "w", encoding="utf-8") as out:
        out.write(json.dumps({"version": VERSION, "count": len(points)}) + "\n")
        for key, value, ns, dimensions in points:
            dims = None
            if dimensions is not None:
                dims = [v if isinstance(v, _PLAIN) else {"text": str(v)} for v in dimensions]
            out.write(json.dumps([MODELS[key]._meta.label, value, ns, dims]) + "\n")
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, directory / name)
    return len(points)


def take(directory: str | os.PathLike, room: int) -> tuple[list[tuple], dict[str, int]]:
    """Claim spool files while their points fit in ``room``; return their points and rejections.

    A claimed file is removed once read. Points of a model this process does
    not have, or that don't read back, are returned as counts per reason.
    """
    points: list[tuple] = []
    rejected: dict[str, int] = {}
    for path, count in _files(Path(directory)):
        if points and len(points) + count > room:
            break
        claimed = path.with_name(f".{path.name}.{os.getpid()}.claimed")
        try:
            os.rename(path, claimed)
        except FileNotFoundError:
            continue  # another process took it
        try:
            _read(claimed, points, rejected)
        except (OSError, ValueError) as exc:
            logger.error("Monitoring could not read the spool file %s: %s", path, exc)
            rejected["unreadable spool file"] = rejected.get("unreadable spool file", 0) + count
        with contextlib.suppress(FileNotFoundError):
            claimed.unlink()
    return points, rejected


def _read(path: Path, points: list[tuple], rejected: dict[str, int]) -> None:
    from django.apps import apps

    with open(path, encoding="utf-8") as source:
        header = json.loads(source.readline())
        if header.get("version") != VERSION:
            raise ValueError(f"unknown spool version {header.get('version')!r}")
        models: dict[str, Any] = {}
        for line in source:
            label, value, ns, dims = json.loads(line)
            if label not in models:
                try:
                    found = apps.get_model(label)
                except (LookupError, ValueError):
                    found = None
                # Only monitor models have a point key.
                models[label] = found if hasattr(found, "_point_key") else None
            model = models[label]
            if model is None:
                rejected["unknown model"] = rejected.get("unknown model", 0) + 1
                continue
            if dims is not None:
                dims = tuple(
                    field.to_python(v["text"]) if isinstance(v, dict) else v
                    for field, v in zip(model.dimension_fields(), dims, strict=True)
                )
            points.append((model._point_key, value, ns, dims))
