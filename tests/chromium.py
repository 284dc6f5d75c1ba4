"""How the browser tests and bench/dashboard.py start Debian's Chromium (never a download)."""

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
