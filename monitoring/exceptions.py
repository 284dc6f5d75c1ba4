"""Exceptions raised by the monitor registry."""

from __future__ import annotations


class AlreadyRegistered(Exception):
    """A monitor with this name is already registered."""


class NotRegistered(KeyError):
    """No monitor is registered under this name."""

    def __str__(self) -> str:
        # KeyError quotes its argument; show the message as written.
        return str(self.args[0]) if self.args else ""
