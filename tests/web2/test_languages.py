"""English and Simplified Chinese: every message translated (also what someone adds later:
makemessages is run on a copy of the sources), the compiled catalogue in step with the .po,
the switch in every page's header, the stored choice of signed-in users, and e-mails in the
recipient's language."""

from __future__ import annotations

import gettext
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

from monitoring.models import AlertPreference

from .catalogue import read

PO = Path(settings.BASE_DIR, "locale", "zh_Hans", "LC_MESSAGES", "django.po")
MO = PO.with_suffix(".mo")
SOURCES = ("config", "core", "licenses", "shipments", "monitoring", "templates", "manage.py")


def describe(entries) -> str:
    return "\n".join(f"  {e.msgid!r} ({e.where.strip()})" for e in entries[:20])


def test_every_message_of_the_catalogue_is_translated_and_none_is_fuzzy():
    entries = [e for e in read(PO) if not e.obsolete]
    assert len(entries) > 600
    bad = [e for e in entries if not e.translated or e.fuzzy]
    assert not bad, "Untranslated or fuzzy in django.po:\n" + describe(bad)


def test_the_compiled_catalogue_is_the_po_as_it_stands():
    """The .mo is committed so that a fresh clone needs no gettext; it must say what the .po
    says (after editing the .po, run `make messages`)."""
    with MO.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)._catalog  # type: ignore[attr-defined]
    for entry in (e for e in read(PO) if not e.obsolete):
        msgid = f"{entry.msgctxt}\x04{entry.msgid}" if entry.msgctxt else entry.msgid
        if entry.msgid_plural is None:
            assert compiled.get(msgid) == entry.msgstr[0], entry.msgid
        else:
            assert compiled.get((msgid, 0)) == entry.msgstr[0], entry.msgid


def test_makemessages_finds_no_string_that_the_catalogue_lacks(tmp_path):
    """Run makemessages over a copy of the sources with the committed catalogue: a string
    added to a template or to Python code without a translation fails here."""
    if shutil.which("xgettext") is None or shutil.which("msgmerge") is None:
        pytest.fail("GNU gettext is needed to check the translations: apt-get install gettext")
    root = Path(settings.BASE_DIR)
    for name in SOURCES:
        source = root / name
        if not source.exists():
            continue
        if source.is_dir():
            shutil.copytree(source, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, tmp_path / name)
    shutil.copytree(root / "locale", tmp_path / "locale")
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-obsolete"],
        cwd=tmp_path,
        env={"DJANGO_SETTINGS_MODULE": "config.settings.test", "PATH": "/usr/bin:/bin"},
        check=True,
        capture_output=True,
    )
    regenerated = read(tmp_path / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po")
    untranslated = [e for e in regenerated if not e.obsolete and (not e.translated or e.fuzzy)]
    assert not untranslated, (
        "New or changed messages without a translation (run `make messages`, translate them "
        "in locale/zh_Hans/LC_MESSAGES/django.po, run `make messages` again):\n"
        + describe(untranslated)
    )
    committed = {e.key for e in read(PO) if not e.obsolete}
    stale = committed - {e.key for e in regenerated}
    assert not stale, f"Messages no longer used; run `make messages`: {sorted(stale)[:20]}"


# --- switching ---------------------------------------------------------------------------------

pytestmark = pytest.mark.django_db


def test_every_page_has_a_language_switch_even_before_signing_in(client):
    page = client.get("/login/").content.decode()
    assert 'action="/i18n/setlang/"' in page
    assert 'name="language" value="zh-hans" lang="zh-hans"' in page
    assert "简体中文" in page and "English" in page


def test_a_visitor_switches_to_chinese_with_a_cookie_and_back(client):
    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/login/"})
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    page = client.get("/login/").content.decode()
    assert '<html lang="zh-hans">' in page and "登录" in page
    client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    assert "Sign in" in client.get("/login/").content.decode()


def test_the_switch_never_sends_a_visitor_elsewhere(client):
    response = client.post(
        "/i18n/setlang/", {"language": "zh-hans", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_a_signed_in_users_choice_is_stored_and_wins_over_the_browser(client, officer):
    client.force_login(officer)
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert AlertPreference.objects.get(user=officer).language == "zh-hans"
    client.cookies.pop(settings.LANGUAGE_COOKIE_NAME)
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9").content.decode()
    assert '<html lang="zh-hans">' in page and "概览" in page


def test_switching_the_language_keeps_what_the_role_receives(client, officer, ganzhou):
    from monitoring.alerts import _preferences, default_preference

    before = default_preference(officer)
    client.force_login(officer)
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    after = _preferences([officer])[officer.pk]
    assert after.immediate_kinds == before.immediate_kinds
    assert after.watched is None and after.digest == before.digest
    assert after.language == "zh-hans"


def test_an_unknown_language_changes_nothing(client, officer):
    client.force_login(officer)
    client.post("/i18n/setlang/", {"language": "tlh", "next": "/"})
    assert not AlertPreference.objects.filter(user=officer).exists()


def test_a_browser_asking_for_chinese_gets_chinese_before_anyone_chooses(client):
    page = client.get("/login/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").content.decode()
    assert '<html lang="zh-hans">' in page


def test_the_admin_speaks_the_users_language(client, superuser):
    AlertPreference.objects.create(user=superuser, language="zh-hans")
    client.force_login(superuser)
    page = client.get("/admin/").content.decode()
    assert "最近动作" in page  # Django's own translation ("Recent actions")
    assert "许可证申请" in page  # our models' names


# --- e-mails -----------------------------------------------------------------------------------


def raise_overdue(world):
    from monitoring.models import Flag

    return Flag.objects.get(application=world.mine.application, kind="overdue")


def test_an_alert_is_written_in_its_recipients_language(officer, manager, world):
    from monitoring.alerts import alert_message
    from monitoring.models import Alert

    AlertPreference.objects.create(
        user=manager, language="zh-hans", watch_all=True, immediate_kinds=["overdue"]
    )
    flag = raise_overdue(world)
    chinese, _ = Alert.objects.get_or_create(
        flag=flag, recipient=manager.email, defaults={"user": manager, "created_at": flag.raised_at}
    )
    english, _ = Alert.objects.get_or_create(
        flag=flag, recipient=officer.email, defaults={"user": officer, "created_at": flag.raised_at}
    )
    active = translation.get_language()
    message = alert_message(chinese, now=flag.raised_at)
    assert message.subject == "逾期：申请 GZ-APP-1（Ganzhou Rare Earth Trading Co., Ltd.）"  # noqa: RUF001
    assert "但尚未记录受理" in message.body  # submitted, never accepted
    due = world.mine.application.due_at.astimezone(world.mine.application.authority.tz)
    assert f"{due.year}年" in message.body
    html = message.alternatives[0][0]
    assert '<html lang="zh-hans">' in html and "打开申请" in html
    message = alert_message(english, now=flag.raised_at)
    assert message.subject == (
        "Overdue: application GZ-APP-1 (Ganzhou Rare Earth Trading Co., Ltd.)"
    )
    assert "and no acceptance is recorded" in message.body
    assert translation.get_language() == active  # rendering leaves the caller's language


def test_a_digest_is_written_in_its_recipients_language(manager, world):
    from django.utils import timezone

    from monitoring.alerts import _preferences, digest_message
    from monitoring.models import Digest

    AlertPreference.objects.create(user=manager, language="zh-hans", watch_all=True, digest=True)
    now = timezone.now()
    digest = Digest.objects.create(user=manager, local_date=now.date(), created_at=now)
    message = digest_message(digest, manager, _preferences([manager])[manager.pk], now=now)
    assert message.subject.startswith(f"每日摘要 {now.year}年")
    assert "未解除的标记" in message.body and "逾期" in message.body
