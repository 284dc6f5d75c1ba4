from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    """Register the checks, import every app's ``monitoring.py``, wire the write buffer."""

    name = "monitoring"
    verbose_name = "Monitoring"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from monitoring import (
            alerts,
            checks,  # noqa: F401 - registers the checks
            jobs,
            storage,
        )
        from monitoring.register import autodiscover
        from monitoring.storage.signals import connect_model_signals

        # Request ends wake the flusher; forks, exits and multiprocessing children
        # flush. The background thread itself starts on the first buffered add().
        storage.connect()
        # The jobs thread (sampled gauges, alerts) starts on the first request.
        jobs.connect()
        autodiscover()
        connect_model_signals()
        # After autodiscovery: the rules are registered in the apps' monitoring.py.
        alerts.schedule()
