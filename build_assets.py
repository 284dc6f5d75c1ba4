#!/usr/bin/env python
"""Copy the pinned front-end libraries from npm into monitoring/static/monitoring/vendor/.

    python build_assets.py           # npm ci, then copy (always)
    python build_assets.py --check   # exit 1 if a vendor file is missing

The versions are pinned by package-lock.json. The copies are gitignored and
shipped in the wheel and sdist; nothing is ever loaded from a CDN. The demo
command, the test session and the package build call ensure_vendor(), which
builds only when a file is missing.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENDOR = ROOT / "monitoring" / "static" / "monitoring" / "vendor"

#: node_modules path -> name in the vendor directory.
FILES = {
    "jquery/dist/jquery.min.js": "jquery.min.js",
    "jquery/dist/jquery.min.map": "jquery.min.map",
    "jquery/LICENSE.txt": "jquery.LICENSE.txt",
    "uplot/dist/uPlot.iife.min.js": "uPlot.iife.min.js",
    "uplot/dist/uPlot.min.css": "uPlot.min.css",
    "uplot/LICENSE": "uPlot.LICENSE.txt",
}


def missing() -> list[str]:
    """Return the vendor files that are not there yet."""
    return [name for name in FILES.values() if not (VENDOR / name).is_file()]


def build() -> None:
    """Install the locked npm packages and copy the files the app serves."""
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit(
            "django-monitoring needs its front-end libraries (jQuery, uPlot) in "
            f"{VENDOR.relative_to(ROOT)}/, and building them needs npm, which is not on PATH. "
            "Install Node.js and npm (Debian: apt-get install nodejs npm), then run: "
            "python build_assets.py"
        )
    if not (ROOT / "package-lock.json").is_file():
        raise SystemExit(f"No package-lock.json in {ROOT}; cannot build the vendor files.")
    subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"],
        cwd=ROOT,
        check=True,
    )
    VENDOR.mkdir(parents=True, exist_ok=True)
    for source, name in FILES.items():
        shutil.copyfile(ROOT / "node_modules" / source, VENDOR / name)


def ensure_vendor() -> None:
    """Build the vendor files if any is missing; otherwise do nothing."""
    if missing():
        build()


if __name__ == "__main__":
    if sys.argv[1:] == ["--check"]:
        gone = missing()
        if gone:
            print("Missing vendor files:", ", ".join(gone))
            sys.exit(1)
        print("Vendor files present.")
    elif sys.argv[1:]:
        sys.exit(__doc__)
    else:
        build()
        print(f"Copied {len(FILES)} files into {VENDOR.relative_to(ROOT)}/")
