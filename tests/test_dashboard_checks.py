"""The dashboard's system checks: monitoring.E010-E013, W010 and W011."""

from pathlib import Path

import pytest
from django.core.checks import Error, Warning, run_checks
from django.test import override_settings
from django.test.utils import isolate_apps

from monitoring import checks
from monitoring.models import IntegerCountBase
from monitoring.register import monitor
from monitoring.views import IntegerCountView

DOCS = Path(__file__).resolve().parent.parent / "docs" / "checks.rst"


def ids(messages):
    return [message.id for message in messages]


def test_the_test_project_has_no_dashboard_issues():
    assert checks.check_dashboard_settings() == []
    assert checks.check_dimension_names() == []


@pytest.mark.parametrize("permission", ["view_monitoring", "a.b.c", ".x", 42, ""])
def test_e010_permission_must_be_a_permission_name(permission):
    with override_settings(MONITORING_PERMISSION=permission):
        messages = checks.check_dashboard_settings()
    assert ids(messages) == ["monitoring.E010"]
    assert isinstance(messages[0], Error)


@pytest.mark.parametrize("permission", [None, "test_app.view_monitorusercount"])
def test_e010_accepts_none_or_a_permission(permission):
    with override_settings(MONITORING_PERMISSION=permission):
        assert checks.check_dashboard_settings() == []


@pytest.mark.parametrize("value", ["2d", "", None, 7])
def test_e011_default_range_must_be_a_range(value):
    with override_settings(MONITORING_DEFAULT_RANGE=value):
        messages = checks.check_dashboard_settings()
    assert ids(messages) == ["monitoring.E011"]
    assert "1h, 6h, 24h, 7d, 30d, 90d, 365d" in messages[0].msg


def site_templates(settings, tmp_path, **files):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [str(tmp_path)]}]


def test_e012_base_template_not_found(settings):
    settings.MONITORING_BASE_TEMPLATE = "no_such_base.html"
    assert ids(checks.check_dashboard_settings()) == ["monitoring.E012"]


def test_e012_base_template_does_not_compile(settings, tmp_path):
    site_templates(settings, tmp_path, **{"broken.html": "{% block main %}"})
    settings.MONITORING_BASE_TEMPLATE = "broken.html"
    assert ids(checks.check_dashboard_settings()) == ["monitoring.E012"]


def test_e013_base_template_without_block_main(settings, tmp_path):
    site_templates(
        settings,
        tmp_path,
        **{
            "site.html": "<head>{% block monitoring_head %}{% endblock %}</head>"
            "{% block content %}{% endblock %}{% block monitoring_scripts %}{% endblock %}"
        },
    )
    settings.MONITORING_BASE_TEMPLATE = "site.html"
    messages = checks.check_dashboard_settings()
    assert ids(messages) == ["monitoring.E013"]
    assert isinstance(messages[0], Error)


def test_w011_base_template_without_our_head_and_scripts_blocks(settings, tmp_path):
    site_templates(settings, tmp_path, **{"site.html": "<body>{% block main %}{% endblock %}"})
    settings.MONITORING_BASE_TEMPLATE = "site.html"
    messages = checks.check_dashboard_settings()
    assert ids(messages) == ["monitoring.W011"]
    assert isinstance(messages[0], Warning)
    assert "monitoring_head" in messages[0].msg and "monitoring_scripts" in messages[0].msg


def test_blocks_may_come_from_the_base_templates_own_parent(settings, tmp_path):
    site_templates(
        settings,
        tmp_path,
        **{
            "layout.html": "<head>{% block monitoring_head %}{% endblock %}</head>"
            "{% block body %}{% endblock %}{% block monitoring_scripts %}{% endblock %}",
            "site.html": '{% extends "layout.html" %}'
            "{% block body %}<nav></nav>{% block main %}{% endblock %}{% endblock %}",
        },
    )
    settings.MONITORING_BASE_TEMPLATE = "site.html"
    assert checks.check_dashboard_settings() == []


@isolate_apps("test_app")
def test_w010_dimension_named_like_a_parameter():
    from django.db import models

    class MonitorByFormat(IntegerCountBase):
        format = models.CharField(max_length=10)

        class Meta:
            app_label = "test_app"

    monitor.register("by_format", IntegerCountView.as_view(model=MonitorByFormat))
    messages = checks.check_dimension_names()
    assert ids(messages) == ["monitoring.W010"]
    assert "'format'" in messages[0].msg


def test_dashboard_checks_are_registered():
    with override_settings(MONITORING_DEFAULT_RANGE="2d"):
        assert "monitoring.E011" in ids(run_checks())


def test_every_dashboard_check_id_is_documented():
    text = DOCS.read_text()
    for check_id in ["E010", "E011", "E012", "E013", "W010", "W011"]:
        assert f"``monitoring.{check_id}``" in text
