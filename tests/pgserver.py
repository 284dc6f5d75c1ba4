"""A throwaway PostgreSQL server on 127.0.0.1 that a test can stop and start, as .ci/run does.

initdb into a temporary directory (as the ``postgres`` user when run as root,
since PostgreSQL refuses to run as root), ``pg_ctl start`` on a free port,
and everything removed at the end.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile


def binaries() -> str | None:
    """Return the newest PostgreSQL bin directory installed, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2] or 0))
    found = [path for path in found if os.path.exists(os.path.join(path, "pg_ctl"))]
    return found[-1] if found else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ThrowawayPostgres:
    """One server: ``start()``, ``stop()`` (fast shutdown), ``start()`` again, ``remove()``."""

    def __init__(self) -> None:
        self.bin = binaries()
        if self.bin is None:
            raise RuntimeError("PostgreSQL binaries are not installed")
        self.port = free_port()
        self.data = tempfile.mkdtemp(prefix="monitoring-pg-")
        if os.geteuid() == 0:
            shutil.chown(self.data, "postgres", "postgres")
        self._run("initdb", "-D", self.data, "-A", "trust", "-U", "postgres")

    def _run(self, program: str, *args: str) -> None:
        command = [os.path.join(self.bin, program), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        self._run(
            "pg_ctl",
            "-D",
            self.data,
            "-l",
            os.path.join(self.data, "log"),
            "-w",
            "-o",
            f"-h 127.0.0.1 -p {self.port} -k {tempfile.gettempdir()}",
            "start",
        )

    def stop(self) -> None:
        self._run("pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # not running
            self.stop()
        shutil.rmtree(self.data, ignore_errors=True)

    def env(self) -> dict[str, str]:
        """Return the variables that point test_app at this server."""
        return {
            "MONITORING_TEST_DB": "postgres",
            "PGHOST": "127.0.0.1",
            "PGPORT": str(self.port),
            "PGUSER": "postgres",
            "PGDATABASE": "postgres",
        }

    def query(self, sql: str) -> list[tuple]:
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname="postgres"
        ) as conn:
            return conn.execute(sql).fetchall()
