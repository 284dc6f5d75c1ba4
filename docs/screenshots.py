#!/usr/bin/env python
"""Regenerate the dashboard screenshots in docs/ from the demo.

    .venv/bin/python docs/screenshots.py

Sets up the demo (``manage.py demo --no-serve``: sample data, staff user) in a
throwaway SQLite file, serves it on 127.0.0.1 from a subprocess, logs in
through the admin's login page in headless Chromium (/usr/bin/chromium, en-US,
Europe/Berlin) and writes:

- ``dashboard-light.png`` and ``dashboard-dark.png``: the dashboard at 1440×900;
- ``dashboard-phone.png``: the dashboard on a 390 px wide phone;
- ``dashboard-detail.png``: the page of one monitor, with its table.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))

from tests.chromium import CHROMIUM, CHROMIUM_ARGS  # noqa: E402 - needs ROOT on sys.path

SHOTS = [
    # file, path, viewport, colour scheme, full page
    ("dashboard-light.png", "/monitoring/?range=7d", {"width": 1440, "height": 900}, "light"),
    ("dashboard-dark.png", "/monitoring/?range=7d", {"width": 1440, "height": 900}, "dark"),
    ("dashboard-phone.png", "/monitoring/?range=24h", {"width": 390, "height": 844}, "light"),
    (
        "dashboard-detail.png",
        "/monitoring/orders/?range=7d",
        {"width": 1440, "height": 900},
        "light",
    ),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise SystemExit(f"The demo server did not start on port {port}.")


def main() -> None:
    import django
    from playwright.sync_api import sync_playwright

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "test_app.settings")
    django.setup()
    from test_app.management.commands.monitoring_sample_data import (
        STAFF_PASSWORD,
        STAFF_USERNAME,
    )

    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "test_app.settings",
            "MONITORING_SQLITE_NAME": str(Path(tmp) / "demo.sqlite3"),
            "PYTHONPATH": str(ROOT),
        }
        manage = [sys.executable, str(ROOT / "test_app" / "manage.py")]
        subprocess.run([*manage, "demo", "--no-serve"], env=env, check=True, cwd=ROOT)
        port = free_port()
        server = subprocess.Popen(
            [*manage, "runserver", f"127.0.0.1:{port}", "--noreload"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for(port)
            base = f"http://127.0.0.1:{port}"
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
                )
                for name, path, viewport, scheme in SHOTS:
                    context = browser.new_context(
                        viewport=viewport,
                        locale="en-US",
                        timezone_id="Europe/Berlin",
                        color_scheme=scheme,
                    )
                    page = context.new_page()
                    page.goto(f"{base}/admin/login/?next={path}")
                    page.fill("#id_username", STAFF_USERNAME)
                    page.fill("#id_password", STAFF_PASSWORD)
                    with page.expect_navigation():
                        page.click("input[type=submit]")
                    # Every card on the first screen settled, its chart drawn.
                    page.wait_for_function(
                        """() => {
                            const cards = [...document.querySelectorAll('.monitoring-card')]
                                .filter(c => c.getBoundingClientRect().top < innerHeight);
                            return cards.length && cards.every(c =>
                                ['empty', 'error'].includes(c.dataset.state)
                                || (c.dataset.state === 'ready' && c.querySelector('canvas')));
                        }""",
                        timeout=60_000,
                    )
                    page.wait_for_timeout(300)
                    page.screenshot(path=str(DOCS / name))
                    print(f"wrote docs/{name}")
                    context.close()
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
