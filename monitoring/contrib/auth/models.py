"""The tables of the account monitors. No row holds a username or any credential."""

from django.db import models

from monitoring.models import IntegerCountBase


class LoginCount(IntegerCountBase, models.Model):
    """Successful logins (``user_logged_in``)."""


class FailedLoginCount(IntegerCountBase, models.Model):
    """Failed logins (``user_login_failed``); the credentials tried are never stored."""


class LogoutCount(IntegerCountBase, models.Model):
    """Logouts (``user_logged_out``)."""


class SignupCount(IntegerCountBase, models.Model):
    """New users: rows created in ``AUTH_USER_MODEL`` (fixtures loaded raw are not counted)."""
