"""Fill the demo monitors with realistic data: daily and weekly rhythm, noise, bursts."""

from __future__ import annotations

import datetime as dt
import math
import random
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from monitoring.annotations import annotate
from monitoring.contrib.auth.models import (
    FailedLoginCount,
    LoginCount,
    LogoutCount,
    SignupCount,
)
from monitoring.contrib.database.models import QueriesPerRequest, QueryTimePerRequest
from monitoring.contrib.health.models import FlushLag, FlushTime, PointCount, SampleCount
from monitoring.contrib.requests.models import RequestCount, RequestException, RequestLatency
from monitoring.contrib.tasks.models import TaskCount, TaskRunTime
from monitoring.models import Annotation
from monitoring.register import monitor
from monitoring.storage.maintenance import rebuild
from test_app.models import (
    MonitorLoadAverage,
    MonitorOrderCount,
    MonitorQueueLength,
    MonitorRequestTime,
    MonitorUserCount,
    Order,
)

SAMPLE_MODELS = [
    MonitorUserCount,
    LoginCount,
    MonitorOrderCount,
    MonitorQueueLength,
    MonitorLoadAverage,
    MonitorRequestTime,
    Order,
    # The built-in monitors of monitoring.contrib, as the demo site would fill them.
    FailedLoginCount,
    LogoutCount,
    SignupCount,
    RequestCount,
    RequestLatency,
    RequestException,
    QueriesPerRequest,
    QueryTimePerRequest,
    TaskCount,
    TaskRunTime,
    PointCount,
    FlushTime,
    FlushLag,
    SampleCount,
]

#: How many of the last days the built-in monitors have sample data for.
BUILTIN_DAYS = 14

#: The demo site's views as the request middleware names them: (view, weight, method,
#: SQL queries it runs, how slow it is).
SAMPLE_VIEWS = [
    ("shop:product-list", 8, "GET", 3, 1.0),
    ("shop:product-detail", 6, "GET", 5, 1.2),
    ("shop:checkout", 2, "POST", 12, 2.5),
    ("accounts:login", 1, "POST", 4, 1.5),
    ("api:orders", 3, "GET", 2, 0.6),
]

#: The demo's Celery tasks: (task name, weight, mean run time in ms).
SAMPLE_TASKS = [
    ("shop.tasks.send_receipt", 5, 350.0),
    ("shop.tasks.sync_stock", 2, 1800.0),
    ("accounts.tasks.send_welcome_mail", 1, 420.0),
]

#: What an order costs on each plan: the revenue chart sums Order.total.
PRICES = {"free": Decimal("9.00"), "pro": Decimal("29.00"), "team": Decimal("99.00")}


#: Events marked on every chart: (text, tags, how long before the end of the data).
SAMPLE_ANNOTATIONS = [
    ("Deployed v1.3", ["deploy"], dt.timedelta(days=3, hours=5)),
    ("Database migration", ["migration"], dt.timedelta(days=1, hours=2)),
    ("Deployed v1.4", ["deploy"], dt.timedelta(hours=5)),
]

#: The staff login the sample data comes with.
STAFF_USERNAME = "admin"
STAFF_PASSWORD = "monitoring"


def ensure_staff_user() -> None:
    """Create the demo's staff user, or give it back its password and staff rights."""
    user_model = get_user_model()
    user = user_model.objects.filter(username=STAFF_USERNAME).first()
    if user is None:
        user = user_model(
            username=STAFF_USERNAME,
            email="admin@example.com",
            is_staff=True,
            is_superuser=True,
            is_active=True,
        )
        user.set_password(STAFF_PASSWORD)
        # bulk_create sends no post_save: the demo's login is not a sign-up to count.
        user_model.objects.bulk_create([user])
    elif not (user.is_staff and user.is_active and user.check_password(STAFF_PASSWORD)):
        user.is_staff = user.is_superuser = user.is_active = True
        user.set_password(STAFF_PASSWORD)
        user.save()


def activity(at: dt.datetime) -> float:
    """Return how busy the site is at ``at``, local time: 0 at night, ~1 mid-afternoon."""
    local = timezone.localtime(at)
    hour = local.hour + local.minute / 60
    daily = max(0.05, math.sin((hour - 6) / 24 * 2 * math.pi)) if 6 <= hour <= 24 else 0.05
    weekly = 0.55 if local.weekday() >= 5 else 1.0
    return daily * weekly


class Command(BaseCommand):
    help = (
        "Fill the demo monitors with sample data for the last --days days, "
        "and create a staff user whose login it prints."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=90, help="How many days (default 90).")
        parser.add_argument("--seed", type=int, default=2013, help="Random seed (default 2013).")
        parser.add_argument(
            "--clear", action="store_true", help="Delete existing sample rows first."
        )

    def handle(self, *args, days, seed, clear, **options):
        if not 1 <= days <= 3650:
            raise CommandError(f"--days must be from 1 to 3650, got {days}.")
        rng = random.Random(seed)
        end = timezone.now().replace(second=0, microsecond=0)
        start = end - dt.timedelta(days=days)
        with transaction.atomic():
            if clear:
                for model in SAMPLE_MODELS:
                    model.objects.all().delete()
                Annotation.objects.all().delete()
            counts = {model: 0 for model in SAMPLE_MODELS}
            rows: dict[type, list] = {model: [] for model in SAMPLE_MODELS}
            step = dt.timedelta(minutes=10)
            # The built-ins were turned on later: fewer rows, so the demo starts quickly.
            builtins_start = end - dt.timedelta(days=BUILTIN_DAYS)
            # Their own random numbers: the demo's own monitors keep the same data.
            builtins_rng = random.Random(seed + 1)
            at = start
            queue = 5.0
            while at < end:
                busy = activity(at)
                # A burst: a marketing mail or an outage, a few times a month.
                burst = 6.0 if rng.random() < 0.002 else 1.0
                for _ in range(self.poisson(rng, 0.25 * busy * burst)):
                    rows[MonitorUserCount].append(MonitorUserCount(created=self.jitter(rng, at)))
                for _ in range(self.poisson(rng, 1.2 * busy * burst)):
                    rows[LoginCount].append(LoginCount(created=self.jitter(rng, at)))
                for _ in range(self.poisson(rng, 0.8 * busy * burst)):
                    plan = rng.choices(["free", "pro", "team"], weights=[6, 3, 1])[0]
                    placed = self.jitter(rng, at)
                    rows[MonitorOrderCount].append(MonitorOrderCount(created=placed, plan=plan))
                    # The last hour's orders await payment: the demo's sampled gauge reads them.
                    paid = placed < end - dt.timedelta(hours=1)
                    rows[Order].append(
                        Order(placed=placed, plan=plan, total=PRICES[plan], paid=paid)
                    )
                queue = max(0.0, queue * 0.8 + rng.gauss(12 * busy * burst, 3) * 0.2)
                rows[MonitorQueueLength].append(MonitorQueueLength(created=at, value=round(queue)))
                load = max(0.0, 0.3 + 2.2 * busy * burst + rng.gauss(0, 0.15))
                rows[MonitorLoadAverage].append(
                    MonitorLoadAverage(created=at, value=round(load, 2))
                )
                for _ in range(self.poisson(rng, 4 * busy + 0.5)):
                    ms = rng.lognormvariate(math.log(80 + 60 * busy * burst), 0.6)
                    rows[MonitorRequestTime].append(
                        MonitorRequestTime(created=self.jitter(rng, at), value=round(ms, 2))
                    )
                if at >= builtins_start:
                    own = builtins_rng
                    requests = self.poisson(own, 6 * busy + 0.5)
                    for _ in range(requests):
                        self.request(own, rows, self.jitter(own, at), busy * burst, burst > 1)
                    for _ in range(self.poisson(own, 1.5 * busy * burst)):
                        self.task(own, rows, self.jitter(own, at), burst > 1)
                    self.flushes(own, rows, at, requests)
                    for model, rate in (
                        (FailedLoginCount, 0.1),
                        (LogoutCount, 0.5),
                        (SignupCount, 0.25),
                    ):
                        for _ in range(self.poisson(own, rate * busy * burst)):
                            rows[model].append(model(created=self.jitter(own, at)))
                at += step
            for model, objs in rows.items():
                model.objects.bulk_create(objs, batch_size=2000)
                counts[model] = len(objs)
            for text, tags, before in SAMPLE_ANNOTATIONS:
                if before < end - start:
                    annotate(text, tags=tags, at=end - before)
        # The rows went in with bulk_create, past the write buffer: roll them up now,
        # as monitoring_rebuild would.
        handles = [monitor.get_for_model(model) for model in SAMPLE_MODELS]
        rebuild([handle for handle in handles if handle is not None])
        for model, count in counts.items():
            self.stdout.write(f"{model._meta.label}: {count} rows")
        self.stdout.write(self.style.SUCCESS(f"Sample data for {days} days written."))
        ensure_staff_user()
        self.stdout.write(f"Staff login: {STAFF_USERNAME} / {STAFF_PASSWORD}")

    @staticmethod
    def request(rng: random.Random, rows: dict, at: dt.datetime, load: float, burst: bool):
        """Add what the request and query middleware record for one request."""
        view, _weight, method, queries, slow = rng.choices(
            SAMPLE_VIEWS, weights=[v[1] for v in SAMPLE_VIEWS]
        )[0]
        roll = rng.random()
        failed = roll < (0.04 if burst else 0.008)
        if failed:
            status = "5xx"
            exception = rng.choice(
                ["django.db.utils.OperationalError", "builtins.KeyError", "builtins.TimeoutError"]
            )
            rows[RequestException].append(RequestException(created=at, exception=exception))
        elif roll < 0.05:
            status = "4xx"
        elif method == "POST" and roll < 0.5:
            status = "3xx"  # a redirect after a successful form
        else:
            status = "2xx"
        rows[RequestCount].append(RequestCount(created=at, method=method, status_class=status))
        query_ms = rng.lognormvariate(math.log(queries * (1.5 + 2 * load)), 0.5)
        ms = query_ms + rng.lognormvariate(math.log(25 * slow * (1 + load)), 0.5)
        rows[RequestLatency].append(RequestLatency(created=at, value=round(ms, 2), view=view))
        count = queries + rng.choice([0, 0, 0, 1, 2])
        rows[QueriesPerRequest].append(QueriesPerRequest(created=at, value=count))
        rows[QueryTimePerRequest].append(QueryTimePerRequest(created=at, value=round(query_ms, 2)))

    @staticmethod
    def task(rng: random.Random, rows: dict, at: dt.datetime, burst: bool):
        """Add what the Celery signals record for one task run."""
        task, _weight, mean = rng.choices(SAMPLE_TASKS, weights=[t[1] for t in SAMPLE_TASKS])[0]
        roll = rng.random()
        if roll < (0.1 if burst else 0.01):
            outcome = "failure"
        else:
            outcome = "retry" if roll < 0.04 else "success"
        rows[TaskCount].append(TaskCount(created=at, task=task, outcome=outcome))
        ms = rng.lognormvariate(math.log(mean), 0.4)
        rows[TaskRunTime].append(TaskRunTime(created=at, value=round(ms, 2), task=task))

    @staticmethod
    def flushes(rng: random.Random, rows: dict, at: dt.datetime, requests: int):
        """Add monitoring's own health for ten minutes, summed, and one flush of them."""
        points = 6 * requests + 1  # a request's points, and the gauges'
        for outcome in ("taken", "written"):
            rows[PointCount].append(PointCount(created=at, value=points, outcome=outcome))
        rows[SampleCount].append(SampleCount(created=at, value=10, outcome="ok"))
        busy = rng.lognormvariate(math.log(2 + requests / 3), 0.4)
        rows[FlushTime].append(FlushTime(created=at, value=round(busy, 2)))
        rows[FlushLag].append(FlushLag(created=at, value=round(1000 + busy, 2)))

    @staticmethod
    def jitter(rng: random.Random, at: dt.datetime) -> dt.datetime:
        return at + dt.timedelta(seconds=rng.uniform(0, 600))

    @staticmethod
    def poisson(rng: random.Random, mean: float) -> int:
        # Knuth's method: fine for the small means used here.
        limit, k, p = math.exp(-mean), 0, 1.0
        while True:
            p *= rng.random()
            if p <= limit:
                return k
            k += 1
