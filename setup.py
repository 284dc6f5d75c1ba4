# Metadata lives in pyproject.toml; this file only serves tools that still call setup.py.
from setuptools import setup

setup()
