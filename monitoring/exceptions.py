"""Exceptions raised by the monitor registry and by add()'s checks."""

from __future__ import annotations


class AlreadyRegistered(Exception):
    """A monitor with this name is already registered."""


class NotRegistered(KeyError):
    """No monitor is registered under this name."""

    def __str__(self) -> str:
        # KeyError quotes its argument; show the message as written.
        return str(self.args[0]) if self.args else ""


class InvalidDimension(ValueError):
    """add() refuses a dimension's value; ``problem`` says why, without the value."""

    def __init__(self, message: str, problem: str) -> None:
        super().__init__(message)
        self.problem = problem
