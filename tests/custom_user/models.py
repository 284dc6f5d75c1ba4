"""A custom user model, for the auth monitors' test in a project that swaps AUTH_USER_MODEL."""

from django.contrib.auth.models import AbstractUser


class Account(AbstractUser):
    class Meta:
        app_label = "custom_user"
