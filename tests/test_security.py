"""Headers, CSV formula injection and secrets in logs."""

import csv
import io
import logging

import pytest
from django.db import connection, models
from django.test import override_settings
from django.test.utils import isolate_apps

from monitoring.models import IntegerCountBase
from monitoring.register import monitor
from monitoring.views import IntegerCountView

TOKEN = "s3cret-metrics-token-never-logged"

#: Spreadsheet formulas and the characters that start one.
FORMULAS = ['=cmd|" /C calc"!A0', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1", '=HYPERLINK("x")']


@pytest.fixture
def labelled(db):
    """A count monitor with a free-text dimension, its table created for the test."""
    with isolate_apps("test_app"):

        class MonitorLabelled(IntegerCountBase):
            label = models.CharField(max_length=100, default="")

            class Meta:
                app_label = "test_app"

    with connection.schema_editor() as editor:
        editor.create_model(MonitorLabelled)
    monitor.register("labelled", IntegerCountView.as_view(model=MonitorLabelled))
    yield MonitorLabelled
    with connection.schema_editor() as editor:
        editor.delete_model(MonitorLabelled)


def is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


@pytest.mark.django_db(transaction=True)
def test_csv_cells_never_start_a_formula(labelled, staff_client):
    for label in FORMULAS:
        labelled.add(1, label=label)
    response = staff_client.get(
        "/monitoring/labelled/", {"format": "csv", "range": "24h", "split": "label", "top": "10"}
    )
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    header = rows[0]
    assert len(header) > len(FORMULAS)  # a column per label: the labels are in the file
    for label in FORMULAS:
        assert any(label in cell for cell in header), (label, header)
    for row in rows:
        for cell in row:
            if cell and not is_number(cell):
                assert cell[0] not in "=+-@\t\r", cell


DATA_PATHS = [
    "/monitoring/user_count/?format=json",
    "/monitoring/user_count/?format=csv",
    "/monitoring/user_count/?format=card",
    "/monitoring/metrics",
    "/monitoring/health",
    "/monitoring/?part=banner",
]
PAGE_PATHS = ["/monitoring/", "/monitoring/user_count/"]


@pytest.mark.parametrize("path", PAGE_PATHS + DATA_PATHS)
@override_settings(MONITORING_METRICS_STAFF=True)
def test_every_answer_refuses_framing_and_data_is_never_stored_by_caches(staff_client, path):
    response = staff_client.get(path)
    assert response.status_code == 200
    # XFrameOptionsMiddleware's header: no monitoring view exempts itself.
    assert response["X-Frame-Options"] == "DENY"
    assert not getattr(response, "xframe_options_exempt", False)
    assert response["Content-Security-Policy"] == "default-src 'self'"
    cache = {part.strip() for part in response["Cache-Control"].split(",")}
    assert {"no-store", "private"} <= cache


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path, setting",
    [
        ("/monitoring/metrics", "MONITORING_METRICS_TOKEN"),
        ("/monitoring/health", "MONITORING_HEALTH_TOKEN"),
    ],
)
def test_the_metrics_and_health_tokens_are_never_logged(client, caplog, path, setting):
    with override_settings(**{setting: TOKEN}), caplog.at_level(logging.DEBUG):
        for token in (TOKEN, TOKEN + "x", TOKEN[:-1]):
            response = client.get(path, headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == (200 if token == TOKEN else 401)
    assert caplog.records  # the refusals were logged, without the token
    for record in caplog.records:
        assert TOKEN[:-1] not in record.getMessage()
        assert TOKEN[:-1] not in str(record.args)
        assert TOKEN[:-1] not in logging.Formatter().format(record)  # traceback included
        request = getattr(record, "request", None)
        if request is not None:
            assert TOKEN[:-1] not in request.get_full_path()
