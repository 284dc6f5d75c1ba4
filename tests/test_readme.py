"""The README's tutorial, run verbatim in a brand-new ``startproject`` project."""

import datetime as dt
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.rst").read_text()


def code_blocks(text):
    """Yield (caption, code) for each code block whose first line is a ``# caption`` comment."""
    pattern = re.compile(r"\.\. code-block:: \w+\n\n((?:[ \t]+.*\n|\n)+)")
    for match in pattern.finditer(text):
        code = textwrap.dedent(match.group(1)).strip("\n")
        first, _, rest = code.partition("\n")
        if first.startswith("# "):
            yield first[2:].strip(), rest.strip("\n") + "\n"


def blocks_by_caption():
    return dict(code_blocks(README))


def run(args, cwd, env=None):
    """Run ``args`` in ``cwd`` with this checkout importable; return (stdout, stderr)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout, result.stderr


def installation_steps():
    """Yield the installation section's steps in order: ("run", command) or (caption, code).

    A ``::`` literal block holds commands, one a line; a ``.. code-block::``
    whose first line is a ``# caption`` comment holds a file's code. A block
    is its lines indented at least as deep as its first one.
    """
    section = README.split(".. installation-start")[1].split(".. installation-end")[0]
    for match in re.finditer(r"(\.\. code-block:: \w+|::)\n\n( +)", section):
        indent = match.group(2)
        lines = []
        for line in section[match.start(2) :].splitlines():
            if line.strip() and not line.startswith(indent):
                break
            lines.append(line)
        code = textwrap.dedent("\n".join(lines)).strip("\n")
        if match.group(1) == "::":
            for line in code.splitlines():
                yield "run", line.strip()
        else:
            first, _, rest = code.partition("\n")
            assert first.startswith("# "), f"a code block without a # caption: {code!r}"
            yield first[2:].strip(), rest.strip("\n") + "\n"


SUPERUSER = {
    "DJANGO_SUPERUSER_USERNAME": "admin",
    "DJANGO_SUPERUSER_EMAIL": "admin@example.com",
    "DJANGO_SUPERUSER_PASSWORD": "a-Long-password-4-the-readme",
}


def follow_installation(project):
    """Follow the installation section word for word in a new ``startproject`` project.

    ``pip install django-monitoring`` is skipped (this checkout is on the
    PYTHONPATH) and ``createsuperuser`` gets ``--noinput`` and the
    ``DJANGO_SUPERUSER_*`` variables instead of a prompt. No command may print
    a monitoring warning: not W003/W004/W006, which tell you to run the very
    command that runs them, nor W007 (LOGIN_URL leads nowhere).
    """
    python = sys.executable
    run([python, "-m", "django", "startproject", "mysite", str(project)], cwd=project)
    steps = list(installation_steps())
    assert steps[0] == ("run", "pip install django-monitoring")
    for step, body in steps[1:]:
        if step == "run":
            assert body.startswith("python manage.py "), body
            args, env = [python, *body.split()[1:]], None
            if args[2] == "createsuperuser":
                args, env = [*args, "--noinput"], SUPERUSER
            _, err = run(args, cwd=project, env=env)
            assert "monitoring." not in err, f"{body}:\n{err}"
        elif step == "mysite/settings.py":
            settings = project / "mysite" / "settings.py"
            settings.write_text(settings.read_text() + "\n" + body)
        elif step == "mysite/urls.py":
            (project / "mysite" / "urls.py").write_text(body)
        elif step == "mysite/asgi.py":
            (project / "mysite" / "asgi.py").write_text(body)
            # What an ASGI server does with it: import it, with no settings module set.
            code = "from mysite.asgi import application; print(application.__qualname__)"
            out, _ = run([python, "-c", code], cwd=project)  # run() unsets the settings module
            assert out.strip() == "flush_on_shutdown.<locals>.monitored", out
        else:
            raise AssertionError(f"The test does not know the step {step!r}.")
    return [body for step, body in steps if step == "run"]


LOGIN = textwrap.dedent(
    """
    import os
    import re
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()
    client = Client(enforce_csrf_checks=True)
    response = client.get("/monitoring/")
    print("REDIRECT", response.status_code, response["Location"])
    login_page = client.get(response["Location"])
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page.content.decode())
    response = client.post(
        response["Location"],
        {
            "username": os.environ["DJANGO_SUPERUSER_USERNAME"],
            "password": os.environ["DJANGO_SUPERUSER_PASSWORD"],
            "csrfmiddlewaretoken": token.group(1),
        },
    )
    print("LOGIN", response.status_code, response["Location"])
    response = client.get(response["Location"])
    print("DASHBOARD", response.status_code, [t.name for t in response.templates][:1])
    """
)


def test_readme_opens_with_exactly_two_commands():
    commands = re.findall(r"::\n\n    (\S.*)\n", README.split("Vision: a tutorial")[0])
    assert len(commands) == 2
    assert commands[0].endswith("test_app/manage.py demo")
    assert commands[1].endswith("runtests.py")


def test_readme_has_the_blocks_the_tutorial_needs():
    assert set(blocks_by_caption()) >= {
        "myapp/models.py",
        "myapp/monitoring.py",
        "myapp/handlers.py",
        "python manage.py shell",
        "mysite/settings.py",
        "mysite/urls.py",
    }


@pytest.mark.slow
def test_installation_section_works_word_for_word(tmp_path):
    commands = follow_installation(tmp_path)
    assert commands == [
        "pip install django-monitoring",
        "python manage.py startapp myapp",
        "python manage.py migrate",
        "python manage.py createsuperuser",
    ]
    login = [sys.executable, "manage.py", "shell", "-c", LOGIN]
    output, _ = run(login, cwd=tmp_path, env=SUPERUSER)
    assert "REDIRECT 302 /admin/login/?next=/monitoring/" in output
    assert "LOGIN 302 /monitoring/" in output
    assert "DASHBOARD 200 ['monitoring/dashboard.html']" in output
    run(
        [sys.executable, "manage.py", "check", "--database", "default", "--fail-level", "WARNING"],
        cwd=tmp_path,
    )


@pytest.mark.slow
def test_tutorial_runs_verbatim_in_a_new_project(tmp_path):
    follow_installation(tmp_path)
    blocks = blocks_by_caption()
    python = sys.executable
    (tmp_path / "myapp" / "models.py").write_text(blocks["myapp/models.py"])
    (tmp_path / "myapp" / "monitoring.py").write_text(blocks["myapp/monitoring.py"])
    (tmp_path / "myapp" / "handlers.py").write_text(blocks["myapp/handlers.py"])

    shell_block = re.search(r"\.\. code-block:: shell\n\n((?:[ \t]+.*\n|\n)+)", README)
    for line in textwrap.dedent(shell_block.group(1)).split("\n"):
        if line.strip():
            assert line.startswith("python manage.py ")
            _, err = run([python, *line.split()[1:]], cwd=tmp_path)
            # W003 says "run makemigrations", W004 and W006 "run migrate".
            assert "monitoring." not in err, f"{line}:\n{err}"

    # The project's TIME_ZONE is UTC: "today" is the UTC date, unless midnight
    # passes between adding the points and reading them.
    today = dt.datetime.now(dt.timezone.utc).date()
    run([python, "manage.py", "shell", "-c", blocks["python manage.py shell"]], cwd=tmp_path)

    fetch = textwrap.dedent(
        """
        from django.contrib.auth.models import User
        from django.test import Client
        from django.test.utils import setup_test_environment
        setup_test_environment()
        client = Client()
        client.force_login(User.objects.create_user("staff", is_staff=True))
        print("JSON", client.get("/monitoring/user_count/?format=json").content.decode())
        print("STATUS", client.get("/monitoring/").status_code)
        print("ANON", Client().get("/monitoring/user_count/").status_code)
        from myapp.handlers import post_registration__handler
        post_registration__handler(sender=None, user=None)
        data = client.get("/monitoring/user_count/?format=json").json()
        print("AFTER HANDLER", sum(point["value"] for point in data["points"]))
        from monitoring.register import monitor
        try:
            monitor.get("user_cont")
        except KeyError as exc:
            print("HINT", exc)
        """
    )
    output, _ = run([python, "manage.py", "shell", "-c", fetch], cwd=tmp_path)
    midnight_passed = dt.datetime.now(dt.timezone.utc).date() != today
    json_line = next(line for line in output.splitlines() if line.startswith("JSON "))
    data = json.loads(json_line[5:])
    assert sum(point["value"] for point in data["points"]) == 3
    if not midnight_passed:
        assert data["points"][-1]["start"].startswith(today.isoformat())
        assert data["points"][-1]["value"] == 3
    assert "STATUS 200" in output
    assert "AFTER HANDLER 4" in output
    assert "ANON 302" in output
    assert "HINT No monitor named 'user_cont'. Did you mean 'user_count'?" in output
    run(
        [python, "manage.py", "check", "--database", "default", "--fail-level", "WARNING"],
        cwd=tmp_path,
    )
