"""The wheel and sdist carry the templates, static files and migrations."""

import os
import shutil
import subprocess
import sys
import tarfile
import textwrap
import zipfile
from pathlib import Path

import pytest

import monitoring

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow

#: The dashboard's templates, scripts and the vendor files build_assets.py copies from npm.
DASHBOARD_FILES = [
    "monitoring/templates/monitoring/cards/base.html",
    "monitoring/templates/monitoring/cards/count.html",
    "monitoring/templates/monitoring/cards/value.html",
    "monitoring/templates/monitoring/cards/duration.html",
    "monitoring/static/monitoring/js/cards.js",
    "monitoring/static/monitoring/js/chart.js",
    "monitoring/static/monitoring/js/controls.js",
    "monitoring/static/monitoring/js/table.js",
    "monitoring/static/monitoring/js/format.js",
    "monitoring/templates/monitoring/denied.html",
    # The German translation, compiled by build_assets.py.
    "monitoring/locale/de/LC_MESSAGES/django.po",
    "monitoring/locale/de/LC_MESSAGES/django.mo",
    "monitoring/static/monitoring/vendor/jquery.min.js",
    "monitoring/static/monitoring/vendor/jquery.LICENSE.txt",
    "monitoring/static/monitoring/vendor/uPlot.iife.min.js",
    "monitoring/static/monitoring/vendor/uPlot.min.css",
    "monitoring/static/monitoring/vendor/uPlot.LICENSE.txt",
]


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--sdist", "--outdir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return out


def test_wheel_contains_templates_static_and_migrations(dist):
    (wheel,) = dist.glob("*.whl")
    assert wheel.name == f"django_monitoring-{monitoring.__version__}-py3-none-any.whl"
    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in [
        "monitoring/templates/monitoring/base.html",
        "monitoring/templates/monitoring/dashboard.html",
        "monitoring/static/monitoring/css/monitoring.css",
        "monitoring/migrations/__init__.py",
        "monitoring/apps.py",
        *DASHBOARD_FILES,
    ]:
        assert expected in names
    assert not any(name.startswith(("test_app/", "tests/")) for name in names)
    assert not any("node_modules" in name for name in names)


def test_sdist_contains_docs_tests_and_license(dist):
    (sdist,) = dist.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    for expected in [
        "LICENSE",
        "README.rst",
        "CHANGELOG.rst",
        "docs/index.rst",
        "tests/test_register.py",
        "test_app/models.py",
        "monitoring/templates/monitoring/dashboard.html",
        "package.json",
        "package-lock.json",
        "build_assets.py",
        *DASHBOARD_FILES,
    ]:
        assert expected in names
    assert not any(name.startswith("node_modules") for name in names)


def test_installed_wheel_imports_and_renders(dist, tmp_path):
    (wheel,) = dist.glob("*.whl")
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-index",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    script = textwrap.dedent(
        """
        import django
        from django.conf import settings
        settings.configure(
            INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes", "monitoring"],
            TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates",
                        "APP_DIRS": True}],
            DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
            ROOT_URLCONF="monitoring.urls", STATIC_URL="/static/",
        )
        django.setup()
        import monitoring
        from django.template.loader import get_template
        print(monitoring.__file__)
        print(get_template("monitoring/dashboard.html").origin.name)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(str(target))
    assert lines[1].startswith(str(target))


def test_vendor_files_match_the_locked_npm_versions():
    import json

    lock = json.loads((ROOT / "package-lock.json").read_text())
    packages = lock["packages"]
    vendor = ROOT / "monitoring" / "static" / "monitoring" / "vendor"
    jquery = packages["node_modules/jquery"]["version"]
    uplot = packages["node_modules/uplot"]["version"]
    assert f"jQuery v{jquery}" in (vendor / "jquery.min.js").read_text()[:200]
    assert packages["node_modules/uplot"]["integrity"].startswith("sha512-")
    assert packages["node_modules/jquery"]["integrity"].startswith("sha512-")
    installed = json.loads((ROOT / "node_modules" / "uplot" / "package.json").read_text())
    assert installed["version"] == uplot


def test_vendor_files_are_not_in_git():
    ignored = subprocess.run(
        ["git", "check-ignore", "monitoring/static/monitoring/vendor/jquery.min.js"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if ignored.returncode == 128:
        pytest.skip("not a git checkout")
    assert ignored.returncode == 0


def without_npm(tmp_path):
    """Return an environment whose PATH has no npm (nor anything else)."""
    empty = tmp_path / "bin"
    empty.mkdir()
    return {**os.environ, "PATH": str(empty)}


def test_build_assets_without_npm_says_what_to_install(tmp_path):
    result = subprocess.run(
        [sys.executable, str(ROOT / "build_assets.py")],
        env=without_npm(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "building them needs npm, which is not on PATH" in result.stderr
    assert "Install Node.js and npm (Debian: apt-get install nodejs npm)" in result.stderr


def test_pip_install_from_a_checkout_without_npm_says_what_to_install(tmp_path):
    checkout = tmp_path / "checkout"
    shutil.copytree(
        ROOT,
        checkout,
        ignore=shutil.ignore_patterns(
            ".*", "node_modules", "vendor", "build", "dist", "*.egg-info", "__pycache__", "_build"
        ),
    )
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(tmp_path), str(checkout)],
        env=without_npm(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "building them needs npm, which is not on PATH" in output
    assert not list(tmp_path.glob("*.whl"))
