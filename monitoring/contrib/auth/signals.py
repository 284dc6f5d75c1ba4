"""Receivers of Django's auth signals; the app's ``ready()`` connects them."""

from __future__ import annotations

from typing import Any

from monitoring.contrib.auth.models import FailedLoginCount, LoginCount, LogoutCount, SignupCount


def count_login(sender: Any, **kwargs: Any) -> None:
    LoginCount.add(1)


def count_failed_login(sender: Any, **kwargs: Any) -> None:
    # kwargs["credentials"] holds the username tried: deliberately not recorded.
    FailedLoginCount.add(1)


def count_logout(sender: Any, user: Any = None, **kwargs: Any) -> None:
    # Django sends it for anonymous sessions too; only a logged-in user logs out.
    if user is not None and getattr(user, "is_authenticated", False):
        LogoutCount.add(1)


def count_signup(sender: Any, created: bool = False, raw: bool = False, **kwargs: Any) -> None:
    if created and not raw:
        SignupCount.add(1)
