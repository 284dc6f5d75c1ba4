"""Receivers that feed the demo's user monitors, as the seed's test app did."""

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_save
from django.dispatch import receiver

from monitoring.register import monitor


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def count_new_user(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        monitor.get("user_count").add(1)


@receiver(user_logged_in)
def count_login(sender, request, user, **kwargs):
    monitor.get("login_count").add(1)
