"""A user's alert settings: read (saved, or the defaults of their role) and saved.

What the settings mean for sending is decided in `monitoring.alerts` (`_preferences`,
`ROLE_DEFAULTS`); this module only reads and writes them, and refuses what a user may not
choose: an exporter they may not see, an unknown flag kind, time zone or language.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from core.errors import InvalidInput
from licenses.selectors import exporter_list

from .alerts import default_preference
from .models import ALERTING_FLAGS, AlertPreference


@dataclass(frozen=True)
class Settings:
    """What a settings form starts from."""

    saved: bool
    watch_all: bool
    watched_ids: frozenset[int]
    immediate_kinds: tuple[str, ...]
    digest: bool
    digest_hour: int
    time_zone: str
    language: str


def language_codes() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


def preference_settings(*, user: Any) -> Settings:
    """The user's saved settings, or their role's defaults when they saved none."""
    saved = AlertPreference.objects.filter(user=user).first()
    if saved is None:
        default = default_preference(user)
        return Settings(
            saved=False,
            watch_all=default.watched is None,
            watched_ids=frozenset(default.watched or ()),
            immediate_kinds=tuple(str(k) for k in ALERTING_FLAGS if k in default.immediate_kinds),
            digest=default.digest,
            digest_hour=default.digest_hour,
            time_zone=default.time_zone,
            language=default.language,
        )
    return Settings(
        saved=True,
        watch_all=saved.watch_all,
        watched_ids=frozenset(saved.watched_exporters.values_list("id", flat=True)),
        immediate_kinds=tuple(saved.immediate_kinds or ()),
        digest=saved.digest,
        digest_hour=saved.digest_hour,
        time_zone=saved.time_zone,
        language=saved.language,
    )


def preference_save(
    *,
    user: Any,
    watch_all: bool,
    watched: Iterable[Any],
    immediate_kinds: Iterable[str],
    digest: bool,
    digest_hour: int,
    time_zone: str,
    language: str,
) -> AlertPreference:
    """Save a user's settings. The watched exporters must be ones the user may see (an
    exporter outside their limit is refused, as if it did not exist), and watching only the
    ticked exporters needs at least one ticked."""
    watched_ids = {getattr(e, "pk", e) for e in watched}
    kinds = list(dict.fromkeys(immediate_kinds))
    errors: dict[str, str] = {}
    visible = set(exporter_list(user=user).filter(pk__in=watched_ids).values_list("pk", flat=True))
    if watched_ids - visible:
        errors["watched_exporters"] = _("You may only watch exporters you may see.")
    elif not watch_all and not visible:
        # "Only the exporters I tick" with none ticked would silently send nothing.
        errors["watched_exporters"] = _(
            "Tick at least one exporter, or choose to watch every exporter you may see."
        )
    unknown = [k for k in kinds if k not in ALERTING_FLAGS]
    if unknown:
        errors["immediate_kinds"] = _("No immediate alerts are sent for: %(kinds)s.") % {
            "kinds": ", ".join(unknown)
        }
    if not isinstance(digest_hour, int) or not 0 <= digest_hour <= 23:
        errors["digest_hour"] = _("An hour from 0 to 23.")
    if not _known_zone(time_zone):
        errors["time_zone"] = _("Unknown time zone.")
    if language not in language_codes():
        errors["language"] = _("Unknown language.")
    if errors:
        raise InvalidInput(_("The alert settings were not saved."), fields=errors)
    with transaction.atomic():
        preference, _created = AlertPreference.objects.update_or_create(
            user=user,
            defaults={
                "watch_all": watch_all,
                "immediate_kinds": [str(k) for k in ALERTING_FLAGS if k in kinds],
                "digest": digest,
                "digest_hour": digest_hour,
                "time_zone": time_zone,
                "language": language,
            },
        )
        preference.watched_exporters.set(sorted(visible))
    return preference


def preference_set_language(*, user: Any, language: str) -> AlertPreference:
    """Store the language a signed-in user switched to. A user without saved settings gets
    their role's defaults saved with it, so that what they receive does not change."""
    if language not in language_codes():
        raise InvalidInput(_("Unknown language."), fields={"language": _("Unknown language.")})
    with transaction.atomic():
        updated = AlertPreference.objects.filter(user=user).update(language=language)
        if updated:
            return AlertPreference.objects.get(user=user)
        current = preference_settings(user=user)
        preference, created = AlertPreference.objects.get_or_create(
            user=user,
            defaults={
                "watch_all": current.watch_all,
                "immediate_kinds": list(current.immediate_kinds),
                "digest": current.digest,
                "digest_hour": current.digest_hour,
                "time_zone": current.time_zone,
                "language": language,
            },
        )
        if created and current.watched_ids:
            preference.watched_exporters.set(sorted(current.watched_ids))
        elif not created and preference.language != language:
            preference.language = language
            preference.save(update_fields=["language"])
    return preference


def _known_zone(name: str) -> bool:
    if not name:
        return False
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def time_zone_names() -> list[str]:
    """The IANA time zones a person would pick (Area/City), and UTC."""
    names = sorted(
        n
        for n in zoneinfo.available_timezones()
        if "/" in n and not n.startswith(("Etc/", "SystemV/", "US/", "posix", "right/"))
    )
    return ["UTC", *names]
