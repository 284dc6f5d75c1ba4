"""Built-in monitors: add an app of this package to INSTALLED_APPS to turn it on.

- ``monitoring.contrib.requests``: requests, latency and unhandled exceptions
  (with its middleware);
- ``monitoring.contrib.auth``: logins, failed logins, logouts and sign-ups;
- ``monitoring.contrib.database``: queries and time in queries per request
  (with its middleware);
- ``monitoring.contrib.tasks``: Celery task runs and their run time.

Each app owns its models and migrations and registers its monitors in its
own dashboard category.
"""
