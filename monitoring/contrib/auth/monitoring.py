"""Register the account monitors (found by autodiscovery)."""

from monitoring.contrib.auth.models import FailedLoginCount, LoginCount, LogoutCount, SignupCount
from monitoring.register import monitor
from monitoring.views import IntegerCountView

CATEGORY = "Accounts"

for order, (name, model, title, description) in enumerate(
    [
        ("logins", LoginCount, "Logins", "Successful logins."),
        ("failed_logins", FailedLoginCount, "Failed logins", "Login attempts that failed."),
        ("logouts", LogoutCount, "Logouts", "Users who logged out."),
        ("signups", SignupCount, "Sign-ups", "New users created."),
    ],
    start=1,
):
    monitor.register(
        name,
        IntegerCountView.as_view(model=model),
        title=title,
        category=CATEGORY,
        order=order,
        description=description,
    )
