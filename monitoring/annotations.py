"""Annotations: events drawn on every chart at their time (deploys, migrations, incidents).

Add them from code with :func:`monitoring.annotate`, from a deploy script with
``manage.py monitoring_annotate "Deployed v1.4" --tag deploy``, or in the
admin. The chart data of every monitor carries those in its range.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from monitoring.buckets import site_timezone, to_db, to_utc
from monitoring.conf import conf

if TYPE_CHECKING:
    from monitoring.models import Annotation

__all__ = ["MAX_TAG", "MAX_TEXT", "annotate", "between", "clean_tags"]

#: The longest text and tag an annotation takes.
MAX_TEXT = 500
MAX_TAG = 50


def clean_tags(tags: Any) -> list[str]:
    """Return ``tags`` as a list of stripped, distinct strings; raise ValueError otherwise."""
    if tags is None:
        return []
    if isinstance(tags, str) or not isinstance(tags, Iterable):
        raise ValueError(f"tags must be a list of strings, such as ['deploy'], not {tags!r}.")
    cleaned: list[str] = []
    for tag in tags:
        if not isinstance(tag, str) or not tag.strip() or len(tag.strip()) > MAX_TAG:
            raise ValueError(
                f"Each tag must be a string of 1 to {MAX_TAG} characters, not {tag!r}."
            )
        if tag.strip() not in cleaned:
            cleaned.append(tag.strip())
    return cleaned


def annotate(
    text: str, tags: Iterable[str] | None = None, at: dt.datetime | None = None
) -> Annotation:
    """Mark an event on every chart: ``annotate("Deployed v1.4", tags=["deploy"])``.

    ``at`` defaults to now; a naive datetime is read in ``TIME_ZONE``. Raise
    ValueError for an empty or too long text, bad tags or a bad time.
    """
    from monitoring.models import Annotation

    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"An annotation needs a text, such as 'Deployed v1.4', not {text!r}.")
    if len(text.strip()) > MAX_TEXT:
        raise ValueError(f"An annotation's text takes at most {MAX_TEXT} characters.")
    if at is None:
        at = timezone.now()
    elif not isinstance(at, dt.datetime):
        raise ValueError(f"at must be a datetime, not {at!r}.")
    annotation = Annotation(at=to_db(at), text=text.strip(), tags=clean_tags(tags))
    annotation.save(using=conf.DATABASE)
    return annotation


def between(start: dt.datetime, end: dt.datetime) -> list[dict[str, Any]]:
    """Return the annotations in ``[start, end)``, oldest first, JSON-ready.

    Each has its time in the site's zone (``at``) and in Unix seconds
    (``timestamp``), its ``text`` and its ``tags``.
    """
    from monitoring.models import Annotation

    rows = Annotation.objects.using(conf.DATABASE).filter(at__gte=to_db(start), at__lt=to_db(end))
    zone = site_timezone()
    result = []
    for annotation in rows.order_by("at", "id"):
        at = to_utc(annotation.at)
        result.append(
            {
                "at": at.astimezone(zone).isoformat(),
                "timestamp": at.timestamp(),
                "text": annotation.text,
                "tags": list(annotation.tags or []),
            }
        )
    return result
