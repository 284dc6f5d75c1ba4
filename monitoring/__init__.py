"""Record a Django project's own metrics from its code and chart them for staff."""

__version__ = "0.1.0"
