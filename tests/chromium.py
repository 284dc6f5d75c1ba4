"""How the browser tests and bench/dashboard.py start Debian's Chromium (never a download)."""

import threading
import time
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")

# Headless as root in a sandbox with no network but the package registries: without the
# background-networking flags Chromium keeps trying to reach its own services.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def wait_until_served(timeout=10.0):
    """Wait for the live server's request threads to end, after the browser has closed.

    A request still being served writes its monitors; the test database's teardown
    truncates the same tables and, on PostgreSQL, the two deadlock. Closing the browser's
    context closes its keep-alive connections, so the threads end by themselves.
    """
    deadline = time.monotonic() + timeout
    while busy := [t.name for t in threading.enumerate() if "process_request_thread" in t.name]:
        if time.monotonic() > deadline:
            raise AssertionError(f"the live server is still serving after {timeout} s: {busy}")
        time.sleep(0.01)
