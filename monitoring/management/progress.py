"""Progress of the long work of the management commands, on their error stream.

On a terminal a bar redraws itself in place; anywhere else (a log file, cron
mail, a pipe) plain lines are written at each tenth of the work, so a log
holds at most a dozen lines per job. Progress goes to stderr, so a
command's output on stdout (an export) stays clean.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Progress", "ProgressByName"]


class Progress:
    """Report how far a job of ``total`` steps has come, on ``stream``.

    Call :meth:`update` with the steps done so far, then :meth:`finish`.
    ``stream`` is a command's ``self.stderr`` (Django's ``OutputWrapper``):
    its ``isatty()`` chooses between the bar and plain lines. With
    ``enabled=False`` (``--verbosity 0``) or a ``total`` of 0 (nothing to
    do) nothing is written. A ``total`` of None (unknown) writes a line per
    update without a percentage.
    """

    #: Characters of the bar between its brackets.
    WIDTH = 30
    #: Plain lines are written at every this many percent.
    STEP = 10

    def __init__(
        self, stream: Any, label: str, total: int | None, *, unit: str = "", enabled: bool = True
    ):
        self.stream = stream
        self.label = label
        self.total = total
        self.unit = f" {unit}" if unit else ""
        self.enabled = enabled and total != 0
        self.tty = enabled and bool(getattr(stream, "isatty", lambda: False)())
        self.done = 0
        # The last percentage drawn (bar) or written (lines); -1 before the first.
        self._shown = -1
        self._drawn = False
        self._finished = False

    def _text(self) -> str:
        if self.total is None:
            return f"{self.label}: {self.done:,}{self.unit}"
        return f"{self.label}: {self.done:,}/{self.total:,}{self.unit} ({self._percent()}%)"

    def _percent(self) -> int:
        return min(100, self.done * 100 // self.total) if self.total else 0

    def update(self, done: int) -> None:
        """Record that ``done`` steps are done and show it if it moved the display."""
        self.done = done
        if not self.enabled:
            return
        if self.total is None:
            if self.tty:
                self._draw(self._text())
            else:
                self.stream.write(self._text())
            return
        percent = self._percent()
        if self.tty:
            if percent != self._shown:
                self._shown = percent
                filled = self.WIDTH * percent // 100
                bar = "#" * filled + "-" * (self.WIDTH - filled)
                count = f"{self.done:,}/{self.total:,}{self.unit}"
                self._draw(f"{self.label} [{bar}] {count} {percent}%")
        elif percent // self.STEP > self._shown // self.STEP:
            # The first update is written too (-1 // STEP is -1): a slow start is not silence.
            self._shown = percent
            self.stream.write(self._text())

    def _draw(self, text: str) -> None:
        # \r back to the line's start, \x1b[K clears what a longer line left behind.
        self.stream.write(f"\r{text}\x1b[K", ending="")
        self.stream.flush()
        self._drawn = True

    def finish(self) -> None:
        """End the display: the bar's line is closed, a last plain line says it is complete.

        Calling it again does nothing.
        """
        if not self.enabled or self._finished:
            return
        self._finished = True
        if self.tty:
            if self._drawn:
                self.stream.write("")
            return
        if self.total is not None and self._shown < 100:
            self._shown = 100
            self.stream.write(self._text())


class ProgressByName:
    """One :class:`Progress` per name, for jobs that report ``(name, done, total)``.

    A name's display ends when its work is done, so on a terminal each bar
    keeps its own line; :meth:`finish` ends those that stopped short.
    """

    def __init__(self, stream: Any, *, unit: str = "", enabled: bool = True):
        self.stream = stream
        self.unit = unit
        self.enabled = enabled
        self.bars: dict[str, Progress] = {}

    def __call__(self, name: str, done: int, total: int | None) -> None:
        bar = self.bars.get(name)
        if bar is None:
            bar = self.bars[name] = Progress(
                self.stream, name, total, unit=self.unit, enabled=self.enabled
            )
        bar.update(done)
        if total is not None and done >= total:
            bar.finish()

    def finish(self) -> None:
        """End every display that has not ended yet."""
        for bar in self.bars.values():
            bar.finish()
