#!/usr/bin/env python
"""Run the whole test suite: python runtests.py [pytest options]"""

import sys

import pytest

if __name__ == "__main__":
    sys.exit(pytest.main(sys.argv[1:]))
