"""The views' windows follow TIME_ZONE's calendar, whatever zone a request activated.

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


CASES = [
    # 23:30 in Berlin is already tomorrow on Kiritimati (UTC+14).
    (dt.datetime(2026, 11, 29, 23, 30, tzinfo=BERLIN), "Pacific/Kiritimati"),
    # 00:30 in Berlin is still yesterday in New York.
    (dt.datetime(2026, 11, 30, 0, 30, tzinfo=BERLIN), "America/New_York"),
    # The night Berlin leaves summer time (a 25-hour day), still yesterday in New York.
    (dt.datetime(2026, 10, 25, 2, 30, tzinfo=BERLIN, fold=1), "America/New_York"),
]


def get_json(client, activated, **params):
    url = reverse("monitoring:monitor", args=["user_count"])
    with timezone.override(zoneinfo.ZoneInfo(activated)):
        response = client.get(url, {"format": "json", **params})
    assert response.status_code == 200, response.content
    return response.json()


@pytest.mark.parametrize("use_tz", [True, False])
@pytest.mark.parametrize(("now", "activated"), CASES)
def test_default_window_ends_now_in_site_zone_buckets(
    staff_client_at, settings, use_tz, now, activated
):
    settings.USE_TZ = use_tz
    client = staff_client_at(now)
    monitor.get("user_count").add(1)  # at now
    data = get_json(client, activated)
    # It ends with the 3-hour bucket holding now, counted from Berlin's midnight,
    # whatever zone is active.
    end = dt.datetime.fromisoformat(data["end"])
    assert now < end <= now + dt.timedelta(hours=3)
    bucket = dt.datetime.combine(now.date(), dt.time(now.hour - now.hour % 3), tzinfo=BERLIN)
    assert data["points"][-1] == {"start": bucket.isoformat(), "value": 1}


@pytest.mark.parametrize("use_tz", [True, False])
@pytest.mark.parametrize(("now", "activated"), CASES)
def test_day_buckets_end_with_the_site_zone_today(
    staff_client_at, settings, use_tz, now, activated
):
    settings.USE_TZ = use_tz
    client = staff_client_at(now)
    monitor.get("user_count").add(1)  # at now
    data = get_json(client, activated, range="30d", resolution="day")
    today = dt.datetime.combine(now.date(), dt.time(), tzinfo=BERLIN)
    # The last bucket is Berlin's today, not the activated zone's (an empty tomorrow).
    assert data["points"][-1] == {"start": today.isoformat(), "value": 1}
    assert data["points"][0]["start"] == (today - dt.timedelta(days=30)).isoformat()
