"""Sphinx configuration. Build: sphinx-build -W docs docs/_build"""

import os
import sys
from pathlib import Path

import django

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "test_app.settings")
django.setup()

import monitoring  # noqa: E402 - needs django.setup() first

project = "django-monitoring"
author = "The django-monitoring developers"
copyright = "2013-2026, The django-monitoring developers"
release = monitoring.__version__
version = ".".join(release.split(".")[:2])

extensions = ["sphinx.ext.autodoc", "sphinx.ext.intersphinx"]
autodoc_member_order = "bysource"
autodoc_typehints = "description"
intersphinx_mapping = {}
exclude_patterns = ["_build"]
html_theme = "alabaster"
nitpicky = False
