"""Count a request's SQL queries and their time: one execute wrapper, one tally per request.

Each database connection object gets the wrapper :func:`count` once: when
:func:`install` runs (the connections the thread has already) and whenever a
connection connects (``connection_created``). The wrapper counts only while a
request's tally is current (:func:`begin` to :func:`end`); outside requests
(commands, tasks) each query pays one wrapper call that finds none.

The tally is a context variable, not a thread-local: under ASGI the queries
of an async view run in another thread (``sync_to_async``), which runs with
a copy of the request's context and so adds to the same tally.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar, Token
from time import perf_counter
from typing import Any

from django.db import connections
from django.db.backends.signals import connection_created

__all__ = ["Tally", "begin", "count", "current", "end", "install"]


class Tally:
    """The queries of one request and their time, in seconds."""

    __slots__ = ("queries", "seconds")

    def __init__(self) -> None:
        self.queries = 0
        self.seconds = 0.0


#: The running request's tally, if any (what begin() sets and end() resets).
current: ContextVar[Tally | None] = ContextVar("monitoring_query_tally", default=None)


def count(execute: Callable, sql: str, params: Any, many: bool, context: Any) -> Any:
    """Execute wrapper: add the query and its time to the current request's tally, if any."""
    tally = current.get()
    if tally is None:
        return execute(sql, params, many, context)
    start = perf_counter()
    try:
        return execute(sql, params, many, context)
    finally:
        tally.seconds += perf_counter() - start
        tally.queries += 1


def _wrap(connection: Any, **kwargs: Any) -> None:
    """Give ``connection`` the counting wrapper unless it has it."""
    wrappers = connection.execute_wrappers
    if count not in wrappers:
        # First, so it is the outermost, and so the append()/pop() of Django's
        # execute_wrapper() context manager never takes it off.
        wrappers.insert(0, count)


def install() -> None:
    """Wrap this thread's open connections now, and every connection when it connects."""
    connection_created.connect(_wrap, dispatch_uid="monitoring.contrib.database")
    for connection in connections.all(initialized_only=True):
        _wrap(connection)


def begin() -> tuple[Tally, Token]:
    """Start counting a request's queries; pass the token to :func:`end`."""
    tally = Tally()
    return tally, current.set(tally)


def end(token: Token) -> None:
    """Stop counting: the tally that was current before :func:`begin` is current again."""
    current.reset(token)
