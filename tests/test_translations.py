"""The German translation: compiled by build_assets.py, complete, and used by the views."""

import gettext
import re
from pathlib import Path

import pytest
from django.urls import reverse

from build_assets import read_po, write_mo

PO = Path(__file__).resolve().parent.parent / "monitoring/locale/de/LC_MESSAGES/django.po"


def test_the_compiler_writes_what_gettext_reads(tmp_path):
    po = tmp_path / "django.po"
    po.write_text(
        'msgid ""\n'
        'msgstr ""\n'
        '"Content-Type: text/plain; charset=UTF-8\\n"\n'
        '"Plural-Forms: nplurals=2; plural=(n != 1);\\n"\n'
        "\n"
        "# a comment\n"
        'msgid "Average"\n'
        'msgstr "Durch"\n'
        '"schnitt"\n'
        "\n"
        "#, fuzzy\n"
        'msgid "Guess"\n'
        'msgstr "Vermutung"\n'
        "\n"
        'msgid "Untranslated"\n'
        'msgstr ""\n'
        "\n"
        'msgctxt "month"\n'
        'msgid "May"\n'
        'msgstr "Mai"\n'
        "\n"
        'msgid "%(n)s day"\n'
        'msgid_plural "%(n)s days"\n'
        'msgstr[0] "%(n)s Tag"\n'
        'msgstr[1] "%(n)s Tage \\"lang\\""\n',
        encoding="utf-8",
    )
    mo = tmp_path / "django.mo"
    write_mo(read_po(po), mo)
    with mo.open("rb") as handle:
        catalog = gettext.GNUTranslations(handle)
    assert catalog.gettext("Average") == "Durchschnitt"
    assert catalog.gettext("Guess") == "Guess"  # fuzzy: left out, as msgfmt does
    assert catalog.gettext("Untranslated") == "Untranslated"
    assert catalog.pgettext("month", "May") == "Mai"
    assert catalog.ngettext("%(n)s day", "%(n)s days", 1) == "%(n)s Tag"
    assert catalog.ngettext("%(n)s day", "%(n)s days", 3) == '%(n)s Tage "lang"'


def test_every_message_has_a_german_translation_with_the_same_placeholders():
    messages = read_po(PO)
    text = PO.read_text(encoding="utf-8")
    ids = re.findall(r'^(?:msgctxt "(.+)"\n)?msgid "(.+)"$', text, re.M)
    assert len(ids) > 80
    assert "fuzzy" not in text  # a fuzzy entry is left out of the .mo: untranslated
    for context, msgid in ids:
        msgid = msgid.replace('\\"', '"')
        key = f"{context}\x04{msgid}" if context else msgid  # as .mo files key them
        assert messages.get(key), f"untranslated: {msgid}"
        placeholders = sorted(re.findall(r"%\(\w+\)[sr]|%%", msgid))
        assert sorted(re.findall(r"%\(\w+\)[sr]|%%", messages[key])) == placeholders, msgid


def _po_ids():
    text = PO.read_text()
    ids = {m.replace('\\"', '"') for m in re.findall(r'^msgid "(.+)"$', text, re.M)}
    for block in re.findall(r'^msgid ""\n((?:".*"\n)+)', text, re.M):
        ids.add("".join(re.findall(r'^"(.*)"$', block, re.M)).replace('\\"', '"'))
    return ids


def test_every_string_marked_for_translation_has_a_german_entry():
    # One-literal calls in Python and {% translate "..." %} in templates: the forms a
    # new message most often takes. (blocktranslate and split literals are not read.)
    ids = _po_ids()
    root = PO.parents[3]
    marked = re.compile(
        r"\b(?:_|gettext|gettext_lazy|ngettext|pgettext|pgettext_lazy)\("
        r'\s*(?:"[^"]*",\s*)?"((?:[^"\\]|\\.)*)"\s*[,)%]'
    )
    missing = [
        (path.relative_to(root).as_posix(), message)
        for path in root.rglob("*.py")
        if "migrations" not in path.parts
        for message in marked.findall(path.read_text())
        if message not in ids
    ]
    tag = re.compile(r'\{%\s*(?:translate|trans)\s+"([^"]*)"')
    missing += [
        (path.relative_to(root).as_posix(), message)
        for path in (root / "templates").rglob("*.html")
        for message in tag.findall(path.read_text())
        if message not in ids
    ]
    assert missing == []


@pytest.mark.django_db
def test_the_dashboard_and_a_card_speak_german(staff_client):
    from tests.factories import QueueLengthFactory

    QueueLengthFactory(value=7)
    page = staff_client.get(reverse("monitoring:dashboard"), HTTP_ACCEPT_LANGUAGE="de")
    html = page.content.decode()
    assert '<html lang="de">' in html
    assert "Zeitraum" in html and "Letzte 7 Tage" in html and "Wird geladen …" in html
    card = staff_client.get(
        reverse("monitoring:monitor", args=["load_average"]),
        {"format": "card"},
        HTTP_ACCEPT_LANGUAGE="de",
    ).content.decode()
    assert "Noch keine Daten erfasst" in card
    card = staff_client.get(
        reverse("monitoring:monitor", args=["queue_length"]),
        {"format": "card"},
        HTTP_ACCEPT_LANGUAGE="de",
    ).content.decode()
    assert "Datentabelle zeigen" in card
    assert "zuletzt 7 jobs in den letzten 7 Tagen" in card
    data = staff_client.get(
        reverse("monitoring:monitor", args=["queue_length"]),
        {"format": "json"},
        HTTP_ACCEPT_LANGUAGE="de",
    ).json()
    assert data["labels"]["avg"] == "Durchschnitt"


@pytest.mark.django_db
def test_the_group_of_every_other_value_is_named_in_the_language_but_flagged_in_the_data(
    staff_client,
):
    from tests.factories import OrderCountFactory

    for plan in ["free", "pro", "team"]:
        OrderCountFactory(plan=plan)
    data = staff_client.get(
        reverse("monitoring:monitor", args=["orders"]),
        {"format": "json", "split": "plan", "top": "1"},
        HTTP_ACCEPT_LANGUAGE="de",
    ).json()
    assert [(group["label"], group["other"]) for group in data["groups"]] == [
        ("free", False),
        ("other", True),
    ]
    assert data["labels"]["other"] == "andere"


@pytest.mark.django_db
def test_numbers_and_dates_follow_the_language(staff_client):
    import datetime as dt
    import zoneinfo

    from test_app.models import MonitorLoadAverage

    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    MonitorLoadAverage.add(1234.5, at=dt.datetime(2026, 3, 10, 15, 5, tzinfo=berlin))
    MonitorLoadAverage.add(0.75, at=dt.datetime(2026, 3, 10, 16, 5, tzinfo=berlin))
    params = {"start": "2026-03-10", "end": "2026-03-11", "resolution": "hour", "format": "card"}
    url = reverse("monitoring:monitor", args=["load_average"])
    german = staff_client.get(url, params, HTTP_ACCEPT_LANGUAGE="de").content.decode()
    english = staff_client.get(url, params, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<span class="monitoring-headline-value">0,75</span>' in german
    assert '<span class="monitoring-headline-value">0.75</span>' in english
    # The peak: grouped digits, and the hour on each language's own clock.
    assert "1.234" in german and "15:00" in german
    assert "1,234" in english and "3:00 PM" in english


@pytest.mark.django_db
def test_alerts_speak_german_in_the_banner_badge_and_detail_page(staff_client):
    import datetime as dt

    from monitoring.alerts import Rule
    from monitoring.models import AlertState, AlertTransition
    from monitoring.register import monitor
    from tests.factories import QueueLengthFactory

    QueueLengthFactory(value=7)
    monitor._alerts = {}  # the demo's rules: restored by conftest
    monitor.alert("busy", Rule("queue_length", stat="last", above=0.5, window="1h", for_="5m"))
    at = dt.datetime(2026, 3, 10, 14, 5, tzinfo=dt.timezone.utc)
    AlertState.objects.create(rule="busy", state="firing", since=at, value=1234)
    AlertTransition.objects.create(
        rule="busy", previous="pending", state="firing", at=at, value=0.75, notify=True
    )
    german = "queue_length: letzter Wert der letzten 1 Std. über 0,5, 5 Min. lang"
    english = "queue_length last over 1h above 0.5 for 5m"

    def page(url, language, **params):
        return staff_client.get(url, params, HTTP_ACCEPT_LANGUAGE=language).content.decode()

    banner = page("/monitoring/", "de", part="banner")
    assert f"{german} (Wert 1.234)" in banner
    assert f"{english} (value 1,234)" in page("/monitoring/", "en", part="banner")
    card = page(reverse("monitoring:monitor", args=["queue_length"]), "de", format="card")
    assert f'title="{german}"' in card and "Alarm: busy" in card
    detail = page(reverse("monitoring:monitor", args=["queue_length"]), "de")
    assert f'<td class="monitoring-rule-firing">ausgelöst</td><td>{german}</td>' in detail
    assert "<td>ausstehend → ausgelöst</td><td>0,75</td>" in detail
    detail = page(reverse("monitoring:monitor", args=["queue_length"]), "en")
    assert f'<td class="monitoring-rule-firing">firing</td><td>{english}</td>' in detail
    assert "<td>pending → firing</td><td>0.75</td>" in detail
