"""A real Prometheus (Debian's package) scrapes /monitoring/metrics from live_server.

Prometheus and promtool are looked up on PATH; without them the tests skip,
except under CI (``CI=true``), where .ci/run installs them and a skip would
hide a broken exposition.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request

import pytest
from django.test import override_settings
from prometheus_client import CollectorRegistry, generate_latest

from monitoring.metrics import RollupCollector
from tests.conftest import ROOT
from tests.factories import OrderCountFactory, QueueLengthFactory, RequestTimeFactory

TOKEN = "token-for-the-real-prometheus"
DEADLINE_S = 60


def _need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        message = f"{tool} is not installed (apt-get install -y prometheus)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _data():
    OrderCountFactory(plan="pro", value=5)
    OrderCountFactory(plan="free", value=2)
    QueueLengthFactory(value=11)
    for ms in [40.0, 80.0, 700.0]:
        RequestTimeFactory(value=ms)


@pytest.mark.slow
@pytest.mark.django_db
def test_promtool_accepts_the_exposition():
    promtool = _need("promtool")
    _data()
    registry = CollectorRegistry(auto_describe=False)
    registry.register(RollupCollector())
    result = subprocess.run(
        [promtool, "check", "metrics"],
        input=generate_latest(registry),
        capture_output=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _query(port: int, expression: str) -> list[dict]:
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": expression})
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)["data"]["result"]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_real_prometheus_scrapes_the_values_of_the_rollups(live_server, tmp_path):
    prometheus = _need("prometheus")
    _data()
    host = urllib.parse.urlparse(live_server.url).netloc
    (tmp_path / "token").write_text(TOKEN)
    (tmp_path / "prometheus.yml").write_text(
        "global:\n"
        "  scrape_interval: 1s\n"
        "scrape_configs:\n"
        "  - job_name: django-monitoring\n"
        "    metrics_path: /monitoring/metrics\n"
        "    authorization:\n"
        "      type: Bearer\n"
        f"      credentials_file: {tmp_path / 'token'}\n"
        "    static_configs:\n"
        f"      - targets: ['{host}']\n"
    )
    port = _free_port()
    log = (tmp_path / "prometheus.log").open("wb")
    server = subprocess.Popen(
        [
            prometheus,
            f"--config.file={tmp_path / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        with override_settings(MONITORING_METRICS_TOKEN=TOKEN):
            deadline = time.monotonic() + DEADLINE_S
            orders = []
            while time.monotonic() < deadline and server.poll() is None:
                try:
                    orders = _query(port, "monitoring_orders_total")
                except OSError:
                    orders = []
                if len(orders) == 2:
                    break
                time.sleep(0.5)
            assert len(orders) == 2, (tmp_path / "prometheus.log").read_text()[-2000:]
            by_plan = {o["metric"]["plan"]: float(o["value"][1]) for o in orders}
            assert by_plan == {"pro": 5.0, "free": 2.0}
            assert [float(r["value"][1]) for r in _query(port, "monitoring_queue_length")] == [11]
            count = _query(port, "monitoring_request_time_seconds_count")
            assert [float(r["value"][1]) for r in count] == [3]
            under_100 = _query(port, 'monitoring_request_time_seconds_bucket{le="0.1"}')
            assert [float(r["value"][1]) for r in under_100] == [2]
            up = _query(port, 'up{job="django-monitoring"}')
            assert [float(r["value"][1]) for r in up] == [1]
            # Every query of the documented Grafana dashboard parses and runs.
            dashboard = json.loads((ROOT / "docs" / "grafana" / "builtins.json").read_text())
            for panel in dashboard["panels"]:
                for target in panel.get("targets", []):
                    _query(port, target["expr"])
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
