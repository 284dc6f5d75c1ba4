from django.apps import AppConfig


class TestAppConfig(AppConfig):
    name = "test_app"
    verbose_name = "Monitoring demo"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from test_app import signals  # noqa: F401 - connects the receivers
