#!/usr/bin/env python
"""Build what the app serves but git does not hold: front-end libraries and translations.

    python build_assets.py           # npm ci, copy, compile the translations (always)
    python build_assets.py --check   # exit 1 if a vendor file or a compiled translation is missing

The front-end libraries are copied from npm into monitoring/static/monitoring/vendor/,
their versions pinned by package-lock.json. The translations in monitoring/locale/
are compiled from their .po files to .mo files, in Python, so no gettext is needed.
Both are gitignored and shipped in the wheel and sdist; nothing is ever loaded from
a CDN. The demo command, the test session and the package build call
ensure_vendor(), which builds only what is missing or out of date.
"""

from __future__ import annotations

import ast
import shutil
import struct
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENDOR = ROOT / "monitoring" / "static" / "monitoring" / "vendor"
LOCALE = ROOT / "monitoring" / "locale"

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


def read_po(path: Path) -> dict[str, str]:
    """Return the translated messages of a .po file, keyed as a .mo file keys them.

    Fuzzy and untranslated entries are left out, as msgfmt leaves them out.
    """
    messages: dict[str, str] = {}
    entry: dict[str, str] = {}
    fuzzy = False
    field = None

    def finish() -> None:
        nonlocal entry, fuzzy
        if "msgid" in entry:
            plural = "msgid_plural" in entry
            key = entry["msgid"] + ("\0" + entry["msgid_plural"] if plural else "")
            if "msgctxt" in entry:
                key = entry["msgctxt"] + "\x04" + key
            forms = sorted(k for k in entry if k.startswith("msgstr"))
            value = "\0".join(entry[k] for k in forms)
            header = entry["msgid"] == ""
            if any(entry[k] for k in forms) and (header or not fuzzy):
                messages[key] = value
        entry, fuzzy = {}, False

    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("#"):
            if line.startswith("#,") and "fuzzy" in line:
                finish()
                fuzzy = True
            continue
        if line.startswith('"'):
            entry[field] += ast.literal_eval(line)
            continue
        keyword, _, rest = line.partition(" ")
        # A new entry starts with msgctxt or msgid once the last one has its msgstr.
        if keyword in ("msgctxt", "msgid") and any(k.startswith("msgstr") for k in entry):
            finish()
        field = keyword
        entry[field] = ast.literal_eval(rest)
    finish()
    return messages


def write_mo(messages: dict[str, str], path: Path) -> None:
    """Write ``messages`` as a GNU .mo file: a header, two tables of strings, the strings."""
    keys = sorted(messages, key=lambda k: k.encode())
    ids = [k.encode() for k in keys]
    strs = [messages[k].encode() for k in keys]
    count = len(keys)
    originals_at = 28
    translations_at = originals_at + 8 * count
    data_at = translations_at + 8 * count
    table_ids, table_strs, blob = [], [], b""
    for text in ids:
        table_ids += [len(text), data_at + len(blob)]
        blob += text + b"\0"
    for text in strs:
        table_strs += [len(text), data_at + len(blob)]
        blob += text + b"\0"
    header = struct.pack("<7I", 0x950412DE, 0, count, originals_at, translations_at, 0, data_at)
    table = struct.pack(f"<{4 * count}I", *table_ids, *table_strs)
    path.write_bytes(header + table + blob)


def stale_translations() -> list[Path]:
    """Return the .po files whose .mo is missing or older."""
    stale = []
    for po in sorted(LOCALE.glob("*/LC_MESSAGES/*.po")):
        mo = po.with_suffix(".mo")
        if not mo.is_file() or mo.stat().st_mtime < po.stat().st_mtime:
            stale.append(po)
    return stale


def compile_translations() -> None:
    """Compile every stale .po file of monitoring/locale/ next to itself."""
    for po in stale_translations():
        write_mo(read_po(po), po.with_suffix(".mo"))


def ensure_vendor() -> None:
    """Build the vendor files and the translations that are missing or out of date."""
    compile_translations()
    if missing():
        build()


if __name__ == "__main__":
    if sys.argv[1:] == ["--check"]:
        gone = missing() + [str(po.with_suffix(".mo")) for po in stale_translations()]
        if gone:
            print("Missing vendor files or translations:", ", ".join(gone))
            sys.exit(1)
        print("Vendor files and translations present.")
    elif sys.argv[1:]:
        sys.exit(__doc__)
    else:
        build()
        for po in LOCALE.glob("*/LC_MESSAGES/*.po"):
            write_mo(read_po(po), po.with_suffix(".mo"))
        print(f"Copied {len(FILES)} files into {VENDOR.relative_to(ROOT)}/; compiled translations")
