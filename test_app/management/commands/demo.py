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
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000", help="Where to serve.")
        parser.add_argument(
            "--no-serve", action="store_true", help="Set everything up, but don't serve."
        )

    def handle(self, *args, addrport, no_serve, **options):
        # The dashboard's jQuery and uPlot are built from npm, not committed.
        ensure_vendor()
        call_command("migrate", interactive=False, verbosity=0)
        if not any(model.objects.exists() for model in SAMPLE_MODELS):
            call_command("monitoring_sample_data", stdout=self.stdout)
        ensure_staff_user()
        host = addrport if ":" in addrport else f"127.0.0.1:{addrport}"
        self.stdout.write(
            self.style.SUCCESS(f"\n  Dashboard: http://{host}/monitoring/\n")
            + f"  Staff login: {STAFF_USERNAME} / {STAFF_PASSWORD}\n"
        )
        if not no_serve:
            call_command("runserver", addrport, use_reloader=False)
