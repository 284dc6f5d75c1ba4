"""The README's tutorial, run verbatim in a brand-new ``startproject`` project."""

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


def run(args, cwd, **kwargs):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, **kwargs
    )
    assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


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
def test_tutorial_runs_verbatim_in_a_new_project(tmp_path):
    blocks = blocks_by_caption()
    python = sys.executable
    run([python, "-m", "django", "startproject", "mysite", str(tmp_path)], cwd=tmp_path)
    run([python, "manage.py", "startapp", "myapp"], cwd=tmp_path)
    settings = tmp_path / "mysite" / "settings.py"
    settings.write_text(settings.read_text() + "\n" + blocks["mysite/settings.py"])
    (tmp_path / "mysite" / "urls.py").write_text(blocks["mysite/urls.py"])
    (tmp_path / "myapp" / "models.py").write_text(blocks["myapp/models.py"])
    (tmp_path / "myapp" / "monitoring.py").write_text(blocks["myapp/monitoring.py"])
    (tmp_path / "myapp" / "handlers.py").write_text(blocks["myapp/handlers.py"])

    shell_block = re.search(r"\.\. code-block:: shell\n\n((?:[ \t]+.*\n|\n)+)", README)
    for line in textwrap.dedent(shell_block.group(1)).split("\n"):
        if line.strip():
            assert line.startswith("python manage.py ")
            run([python, *line.split()[1:]], cwd=tmp_path)

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
        print("AFTER HANDLER", data["points"][-1]["value"])
        from monitoring.register import monitor
        try:
            monitor.get("user_cont")
        except KeyError as exc:
            print("HINT", exc)
        """
    )
    output = run([python, "manage.py", "shell", "-c", fetch], cwd=tmp_path)
    json_line = next(line for line in output.splitlines() if line.startswith("JSON "))
    data = json.loads(json_line[5:])
    assert data["points"][-1]["value"] == 3
    assert sum(point["value"] for point in data["points"]) == 3
    assert "STATUS 200" in output
    assert "AFTER HANDLER 4" in output
    assert "ANON 302" in output
    assert "HINT No monitor named 'user_cont'. Did you mean 'user_count'?" in output
    run(
        [python, "manage.py", "check", "--database", "default", "--fail-level", "WARNING"],
        cwd=tmp_path,
    )
