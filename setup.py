# Metadata lives in pyproject.toml; this file only builds the front-end libraries first.
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_assets import ensure_vendor  # noqa: E402 - needs the path above


class BuildPy(build_py):
    """Copy jQuery and uPlot from npm into the package before a wheel is built."""

    def run(self):
        # An editable install serves the checkout, where the demo and tests build them.
        if not getattr(self, "editable_mode", False):
            ensure_vendor()
        super().run()


class Sdist(sdist):
    """Ship the built front-end libraries in the sdist, so installing it needs no npm."""

    def run(self):
        ensure_vendor()
        super().run()


setup(cmdclass={"build_py": BuildPy, "sdist": Sdist})
