#!/usr/bin/env python
"""Run the demo and test project: python test_app/manage.py demo"""

import os
import sys
from pathlib import Path

if __name__ == "__main__":
    # Make the repository importable, so test_app and monitoring load from this checkout.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "test_app.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
