"""Set up and serve the demo: migrate, sample data, a staff user, runserver."""

from django.core.management import call_command
from django.core.management.base import BaseCommand

from build_assets import ensure_vendor
from test_app.management.commands.monitoring_sample_data import (
    SAMPLE_MODELS,
    STAFF_PASSWORD,
    STAFF_USERNAME,
    ensure_staff_user,
)


class Command(BaseCommand):
    help = "Migrate, fill sample data on first run, create a staff user and start the server."

    def add_arguments(self, parser):
        parser.add_argument(
            "addrport",
            nargs="?",
            default="127.0.0.1:8000",
            help="Port or address:port to serve on, as for runserver (default 127.0.0.1:8000).",
        )
        parser.add_argument(
            "--no-serve", action="store_true", help="Set everything up, but don't serve."
        )

    def handle(self, *args, addrport, no_serve, **options):
        # The dashboard's jQuery and uPlot are built from npm, not committed.
        ensure_vendor()
        call_command("migrate", interactive=False, verbosity=0)
        fill = not any(model.objects.exists() for model in SAMPLE_MODELS)
        if fill:
            # It creates the staff user and prints its login.
            call_command("monitoring_sample_data", stdout=self.stdout)
        else:
            ensure_staff_user()
            self.stdout.write(f"Staff login: {STAFF_USERNAME} / {STAFF_PASSWORD}")
        # The demo's rules fire on the sample data: their emails go to the console now,
        # and the dashboard shows them from the first page on.
        call_command("monitoring_alerts", stdout=self.stdout)
        if no_serve:
            self.stdout.write(self.style.SUCCESS("The demo is set up; manage.py demo serves it."))
            return
        host = addrport if ":" in addrport else f"127.0.0.1:{addrport}"
        self.stdout.write(self.style.SUCCESS(f"\n  Dashboard: http://{host}/monitoring/\n"))
        call_command("runserver", addrport, use_reloader=False)
