"""The receiver that feeds the demo's user_count monitor, as the seed's test app did.

Logins, failed logins and logouts are counted by ``monitoring.contrib.auth``.
"""

from django.conf import settings
from django.db.models.signals import post_save
from django.dispatch import receiver

from monitoring.register import monitor


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def count_new_user(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        monitor.get("user_count").add(1)
