"""The demo's raw monitor rows in the admin, read-only."""

from monitoring.admin import register_raw
from test_app.models import MonitorOrderCount, MonitorUserCount

register_raw(MonitorUserCount)
register_raw(MonitorOrderCount)
