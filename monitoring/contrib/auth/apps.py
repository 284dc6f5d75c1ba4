from django.apps import AppConfig


class AuthMonitoringConfig(AppConfig):
    """Built-in account monitors, fed by Django's auth signals."""

    name = "monitoring.contrib.auth"
    label = "monitoring_auth"
    verbose_name = "Monitoring: accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.conf import settings
        from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
        from django.db.models.signals import post_save

        from monitoring.contrib.auth import signals

        uid = "monitoring.contrib.auth."
        user_logged_in.connect(signals.count_login, dispatch_uid=uid + "login")
        user_login_failed.connect(signals.count_failed_login, dispatch_uid=uid + "failed")
        user_logged_out.connect(signals.count_logout, dispatch_uid=uid + "logout")
        post_save.connect(
            signals.count_signup, sender=settings.AUTH_USER_MODEL, dispatch_uid=uid + "signup"
        )
