"""The views' default window: the last MONITORING_DEFAULT_DAYS days of TIME_ZONE's calendar.

Day rollups are summed in TIME_ZONE when points are flushed, so "today" must
be TIME_ZONE's today, not that of a zone middleware activated for the user.
Each test pins the clock near a midnight, where the two calendars disagree.
"""

import datetime as dt
import zoneinfo

import pytest
from django.urls import reverse
from django.utils import timezone

from monitoring.register import monitor

pytestmark = pytest.mark.django_db

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")  # test_app's TIME_ZONE


@pytest.mark.parametrize("use_tz", [True, False])
@pytest.mark.parametrize(
    ("now", "activated"),
    [
        # 23:30 in Berlin is already tomorrow on Kiritimati (UTC+14).
        (dt.datetime(2026, 11, 29, 23, 30, tzinfo=BERLIN), "Pacific/Kiritimati"),
        # 00:30 in Berlin is still yesterday in New York.
        (dt.datetime(2026, 11, 30, 0, 30, tzinfo=BERLIN), "America/New_York"),
        # The night Berlin leaves summer time (a 25-hour day), still yesterday in New York.
        (dt.datetime(2026, 10, 25, 2, 30, tzinfo=BERLIN, fold=1), "America/New_York"),
    ],
)
def test_default_window_ends_with_the_site_zone_today(
    staff_client_at, settings, use_tz, now, activated
):
    settings.USE_TZ = use_tz
    client = staff_client_at(now)
    monitor.get("user_count").add(1)  # at now
    today = dt.datetime.combine(now.date(), dt.time(), tzinfo=BERLIN)
    url = reverse("monitoring:monitor", args=["user_count"])
    with timezone.override(zoneinfo.ZoneInfo(activated)):
        response = client.get(url, {"format": "json"})
    assert response.status_code == 200
    data = response.json()
    assert data["end"] == (today + dt.timedelta(days=1)).isoformat()
    assert data["start"] == (today - dt.timedelta(days=29)).isoformat()
    assert len(data["points"]) == 30
    assert data["points"][-1] == {"start": today.isoformat(), "value": 1}
