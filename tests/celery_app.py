"""The Celery app a real prefork worker runs in tests/test_contrib_tasks.py.

Messages go through kombu's filesystem transport, in the folder named by
MONITORING_CELERY_FOLDER: no broker server is needed.
"""

import os

import django
from django.conf import settings

django.setup()
# No timed flush: the points reach the database only when a process shuts down,
# which is what the test checks.
settings.MONITORING_FLUSH_INTERVAL = 3600

from celery import Celery  # noqa: E402

folder = os.environ["MONITORING_CELERY_FOLDER"]
app = Celery("monitoring-tests")
app.conf.update(
    broker_url="filesystem://",
    broker_transport_options={"data_folder_in": folder, "data_folder_out": folder},
    task_ignore_result=True,
    worker_hijack_root_logger=False,
    broker_connection_retry_on_startup=True,
)


@app.task(name="shop.add")
def add(x, y):
    return x + y


@app.task(name="shop.fail")
def fail():
    raise RuntimeError("the task is on fire")
