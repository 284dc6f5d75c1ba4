"""Serve test_app with gunicorn on 127.0.0.1 and drive it with a bounded load, for tests and bench.

Everything here talks to 127.0.0.1 only, for a given number of seconds.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """A server process (gunicorn or uvicorn) serving test_app on a free port of 127.0.0.1."""

    def __init__(self, command: list[str], port: int, env: dict[str, str]):
        self.port = port
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**env, "DJANGO_SETTINGS_MODULE": "tests.settings_server"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._stderr: list[str] = []
        self._reader = threading.Thread(target=self._read_stderr, daemon=True)
        self._reader.start()
        self.wait_ready()

    @classmethod
    def gunicorn(cls, workers: int, env: dict[str, str], *options: str) -> Server:
        port = free_port()
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--graceful-timeout",
            "20",
            "--log-level",
            "warning",
            *options,
            "tests.server_app:wsgi()",
        ]
        return cls(command, port, env)

    @classmethod
    def uvicorn(cls, workers: int, env: dict[str, str], app: str = "asgi") -> Server:
        port = free_port()
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            f"tests.server_app:{app}",
        ]
        return cls(command, port, env)

    def _read_stderr(self) -> None:
        for line in self.process.stderr:
            self._stderr.append(line)

    @property
    def stderr(self) -> str:
        return "".join(self._stderr)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited:\n{self.stderr}")
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(self.url("/load/plain/"), timeout=5) as response,
            ):
                if response.status == 200:
                    return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the server did not answer in {timeout} s:\n{self.stderr}")

    def workers(self) -> list[int]:
        """Return the pids of the server's worker processes (children of the master)."""
        pid = self.process.pid
        with open(f"/proc/{pid}/task/{pid}/children") as children:
            return [int(child) for child in children.read().split()]

    def stop(self, timeout: float = 60.0) -> int:
        """Stop gracefully (SIGTERM to the master), wait, and return its exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            status = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            status = self.process.wait(10)
        self._reader.join(10)
        self.process.stderr.close()
        return status


@dataclass
class Load:
    """What a load run did: per path, the times (monotonic) of the 200 answers; the failures."""

    ok: dict[str, list[float]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    latencies: dict[str, list[float]] = field(default_factory=dict)

    def count(self, path: str) -> int:
        return len(self.ok.get(path, []))


def drive(
    server: Server,
    paths: list[str],
    seconds: float,
    clients: int = 4,
    events: list[tuple[float, object]] | None = None,
    headers: dict[str, dict[str, str]] | None = None,
) -> Load:
    """Request ``paths`` in turn from ``clients`` threads for ``seconds``; return what happened.

    ``events`` are (seconds after the start, callable) run once each on the
    calling thread while the load runs (a signal to a worker, say). ``headers``
    maps a path to the headers its requests carry (a session cookie, say).
    """
    load = Load()
    lock = threading.Lock()
    start = time.monotonic()
    deadline = start + seconds

    def client(n: int) -> None:
        i = n
        while time.monotonic() < deadline:
            path = paths[i % len(paths)]
            i += 1
            began = time.monotonic()
            try:
                extra = (headers or {}).get(path, {})
                sent = urllib.request.Request(server.url(path), headers=extra)
                with urllib.request.urlopen(sent, timeout=30) as response:
                    response.read()
                    status = response.status
            except urllib.error.HTTPError as exc:
                status = exc.code
            except OSError as exc:
                with lock:
                    load.failures.append(f"{path}: {exc}")
                continue
            done = time.monotonic()
            with lock:
                if status == 200:
                    load.ok.setdefault(path, []).append(done)
                    load.latencies.setdefault(path, []).append(done - began)
                else:
                    load.failures.append(f"{path}: HTTP {status}")

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for at, action in sorted(events or [], key=lambda event: event[0]):
        time.sleep(max(0.0, start + at - time.monotonic()))
        action()
    for thread in threads:
        thread.join(seconds + 60)
    return load


def kill(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)
