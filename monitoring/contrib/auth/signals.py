"""Receivers of Django's auth signals; the app's ``ready()`` connects them."""

from __future__ import annotations

from typing import Any

from monitoring.contrib.auth.models import FailedLoginCount, LoginCount, LogoutCount, SignupCount
from monitoring.contrib.safe import add_safely


def count_login(sender: Any, **kwargs: Any) -> None:
    """Count a successful login."""
    add_safely(LoginCount, 1)


def count_failed_login(sender: Any, **kwargs: Any) -> None:
    """Count a failed login; the credentials tried (``kwargs["credentials"]``) are not kept."""
    add_safely(FailedLoginCount, 1)


def count_logout(sender: Any, user: Any = None, **kwargs: Any) -> None:
    """Count a logout; Django sends the signal for anonymous sessions too, which don't count."""
    if user is not None and getattr(user, "is_authenticated", False):
        add_safely(LogoutCount, 1)


def count_signup(sender: Any, created: bool = False, raw: bool = False, **kwargs: Any) -> None:
    """Count a new user, unless it was loaded from a fixture."""
    if created and not raw:
        add_safely(SignupCount, 1)
