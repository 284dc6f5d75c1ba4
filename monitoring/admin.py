"""Admins: annotations to edit; read-only rollups, alert states and history, and raw rows.

Annotations, alert states and transitions, and the rollup tables are
registered on ``django.contrib.admin.site`` when the admin is installed. A
monitor's raw model is registered on request::

    # myapp/admin.py
    from monitoring.admin import register_raw
    from myapp.models import MonitorUserCount

    register_raw(MonitorUserCount)
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.paginator import Paginator
from django.db import models
from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.html import format_html

from monitoring.models import (
    AlertState,
    AlertTransition,
    Annotation,
    MonitorBase,
    Rollup,
    RollupBin,
)

__all__ = [
    "AlertStateAdmin",
    "AlertTransitionAdmin",
    "AnnotationAdmin",
    "CappedPaginator",
    "RawRowAdmin",
    "ReadOnlyAdmin",
    "RollupAdmin",
    "RollupBinAdmin",
    "register_raw",
]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Let users who may view the model look; nobody adds, changes or deletes here.

    Monitoring tables are written by ``add()`` and its rollups; an edit in
    the admin would leave raw rows and rollups disagreeing.
    """

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class CappedPaginator(Paginator):
    """Count at most ``CAP`` rows: the admin's COUNT(*) would read a whole raw table per page.

    Past the cap, the list shows ``CAP`` rows' worth of pages; the date
    hierarchy and the filters narrow it down.
    """

    CAP = 10_000

    @cached_property
    def count(self) -> int:
        return self.object_list.order_by()[: self.CAP].count()


class MonitorFilter(admin.SimpleListFilter):
    """Filter rollups by monitor, listing the registered monitors (no DISTINCT over the table)."""

    title = "monitor"
    parameter_name = "monitor"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        from monitoring.register import monitor

        return [(handle.name, handle.name) for handle in monitor]

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        return queryset.filter(monitor=self.value()) if self.value() else queryset


class RawRowAdmin(ReadOnlyAdmin):
    """The raw rows of one monitor's model: newest first, by day, filterable by dimension.

    Filters are offered for dimensions with choices, booleans and foreign
    keys, whose values come from the choices or the related table; a free
    text dimension would need a DISTINCT over the whole raw table.
    """

    date_hierarchy = "created"
    ordering = ["-created"]
    show_full_result_count = False
    list_per_page = 100
    paginator = CappedPaginator

    def get_list_display(self, request: HttpRequest) -> list[str]:
        return ["created", "value", *self.model.dimension_names(), "chart"]

    def get_list_filter(self, request: HttpRequest) -> list[str]:
        return [
            field.name
            for field in self.model.dimension_fields()
            if field.is_relation or field.choices or isinstance(field, models.BooleanField)
        ]

    @admin.display(description="Chart")
    def chart(self, obj: MonitorBase) -> str:
        from monitoring.register import monitor

        handle = monitor.get_for_model(type(obj))
        if handle is None:
            return "–"
        return format_html(
            '<a href="{}">{}</a>', reverse("monitoring:monitor", args=[handle.name]), handle.title
        )


def register_raw(
    model: type[MonitorBase], site: admin.AdminSite | None = None
) -> type[RawRowAdmin]:
    """Register a read-only admin for ``model``'s raw rows on ``site`` (the default admin).

    If ``model`` is not a concrete monitor model, raise TypeError; if it is
    already registered, raise ``django.contrib.admin.sites.AlreadyRegistered``.
    """
    if not (isinstance(model, type) and issubclass(model, MonitorBase)) or model._meta.abstract:
        raise TypeError(
            f"register_raw() takes a concrete model built on a monitoring base, not {model!r}."
        )
    model_admin = type(f"{model.__name__}Admin", (RawRowAdmin,), {"__module__": __name__})
    (site or admin.site).register(model, model_admin)
    return model_admin


class RollupAdmin(ReadOnlyAdmin):
    list_display = ["monitor", "resolution", "start", "dimensions", "count", "sum", "min", "max"]
    list_filter = ["resolution", MonitorFilter]
    ordering = ["monitor", "resolution", "-start"]
    show_full_result_count = False
    paginator = CappedPaginator


class RollupBinAdmin(ReadOnlyAdmin):
    list_display = ["monitor", "resolution", "start", "dimensions", "bin", "count"]
    list_filter = ["resolution", MonitorFilter]
    ordering = ["monitor", "resolution", "-start", "bin"]
    show_full_result_count = False
    paginator = CappedPaginator


class AnnotationForm(forms.ModelForm):
    """The annotation's form: its tags checked as ``monitoring.annotate()`` checks them."""

    class Meta:
        model = Annotation
        fields = ["at", "text", "tags"]

    def clean_tags(self) -> list[str]:
        from monitoring.annotations import clean_tags

        tags = self.cleaned_data.get("tags")
        if isinstance(tags, str):
            tags = [tags]  # "deploy" is one tag, not nothing
        if tags is not None and not isinstance(tags, list):
            raise forms.ValidationError(
                f"tags must be a list of strings, such as ['deploy'], not {tags!r}."
            )
        try:
            return clean_tags(tags)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None


class AnnotationAdmin(admin.ModelAdmin):
    """Edit the annotations every chart draws."""

    form = AnnotationForm
    list_display = ["at", "text", "tag_list"]
    search_fields = ["text"]
    date_hierarchy = "at"
    ordering = ["-at"]

    @admin.display(description="tags")
    def tag_list(self, obj: Annotation) -> str:
        return ", ".join(obj.tags or [])


class AlertStateAdmin(ReadOnlyAdmin):
    list_display = ["rule", "state", "since", "value", "evaluated"]
    list_filter = ["state"]
    ordering = ["rule"]


class AlertTransitionAdmin(ReadOnlyAdmin):
    list_display = ["at", "rule", "previous", "state", "value", "threshold", "emailed", "attempts"]
    list_filter = ["state", "rule"]
    ordering = ["-at", "-id"]


admin.site.register(Annotation, AnnotationAdmin)
admin.site.register(AlertState, AlertStateAdmin)
admin.site.register(AlertTransition, AlertTransitionAdmin)
admin.site.register(Rollup, RollupAdmin)
admin.site.register(RollupBin, RollupBinAdmin)
