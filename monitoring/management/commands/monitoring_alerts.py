"""``manage.py monitoring_alerts``: evaluate every alert rule once, for cron."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from monitoring.alerts import evaluate, format_value
from monitoring.conf import conf
from monitoring.models import AlertState
from monitoring.register import monitor


class Command(BaseCommand):
    help = (
        "Evaluate every alert rule once, deliver its transitions (signals, log, email) "
        "and retry emails that failed before."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        rules = monitor.alerts
        if not rules:
            self.stdout.write("No alert rules are registered.")
            return
        transitions = evaluate()
        states = {
            state.rule: state
            for state in AlertState.objects.using(conf.DATABASE).filter(rule__in=list(rules))
        }
        for name, rule in rules.items():
            state = states.get(name)
            if state is None:  # its evaluation failed (logged), before its first state
                self.stdout.write(f"  {name}: not evaluated ({rule.summary()})")
                continue
            line = f"  {name}: {state.state}, value {format_value(state.value)} ({rule.summary()})"
            style = self.style.ERROR if state.state == AlertState.FIRING else str
            self.stdout.write(style(line))
        for transition in transitions:
            self.stdout.write(f"{transition.rule}: {transition.previous} -> {transition.state}")
        self.stdout.write(
            self.style.SUCCESS(f"Evaluated {len(rules)} rules: {len(transitions)} transitions.")
        )
