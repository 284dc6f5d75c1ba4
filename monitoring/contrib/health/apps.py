from django.apps import AppConfig


class HealthMonitoringConfig(AppConfig):
    """Monitoring's own health: what each process's buffer wrote, refused and dropped."""

    name = "monitoring.contrib.health"
    label = "monitoring_health"
    verbose_name = "Monitoring: health"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from monitoring.contrib.health.report import listen

        listen()
