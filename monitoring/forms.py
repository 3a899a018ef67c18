"""The alert settings form and the webhook form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from core.widgets import filter_checkboxes
from licenses import selectors as license_selectors

from .models import FlagKind, WebhookEvent
from .webhooks import SECRET_MAX, SECRET_MIN, new_secret, validate_url

# --- alert settings ----------------------------------------------------------------------------


class ExporterCheckboxes(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.name)


class AlertSettingsForm(forms.Form):
    """What a user watches and how they hear about it. The exporters offered are the ones
    the user may see, so another exporter is never a valid choice."""

    watch = forms.ChoiceField(
        label=_("Exporters I watch"),
        choices=[
            ("all", _("Every exporter I may see, including ones added later")),
            ("chosen", _("Only the exporters ticked below")),
        ],
        widget=forms.RadioSelect,
    )
    watched_exporters = ExporterCheckboxes(
        label=_("Watched exporters"),
        queryset=None,
        required=False,
        widget=filter_checkboxes(),
    )
    immediate_kinds = forms.MultipleChoiceField(
        label=_("E-mail me at once when one of these flags is raised"),
        choices=[],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("For the exporters you watch; one e-mail per flag."),
    )
    digest = forms.BooleanField(
        label=_("Send me a daily digest of everything open for the exporters I watch"),
        required=False,
    )
    digest_hour = forms.TypedChoiceField(
        label=_("Digest hour"),
        coerce=int,
        choices=[(h, f"{h:02d}:00") for h in range(24)],
        help_text=_("In your time zone."),
    )
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        choices=[],
        help_text=_("Dates and times on the pages are shown in it, and the digest follows it."),
    )
    language = forms.ChoiceField(
        label=_("Language"), choices=[], help_text=_("Of the pages and of the e-mails.")
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        from django.conf import settings

        from .models import ALERTING_FLAGS
        from .preferences import time_zone_names

        super().__init__(*args, **kwargs)
        watched = self.fields["watched_exporters"]
        assert isinstance(watched, forms.ModelMultipleChoiceField)
        watched.queryset = license_selectors.exporter_list(user=user).order_by("name")
        kinds = self.fields["immediate_kinds"]
        assert isinstance(kinds, forms.MultipleChoiceField)
        kinds.choices = [(str(k), FlagKind(k).label) for k in ALERTING_FLAGS]
        zone = self.fields["time_zone"]
        assert isinstance(zone, forms.ChoiceField)
        zone.choices = [(n, n) for n in time_zone_names()]
        language = self.fields["language"]
        assert isinstance(language, forms.ChoiceField)
        language.choices = list(settings.LANGUAGES)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        none_ticked = not data.get("watched_exporters") and "watched_exporters" not in self.errors
        if data.get("watch") == "chosen" and none_ticked:
            self.add_error(
                "watched_exporters",
                _("Tick at least one exporter, or choose to watch every exporter you may see."),
            )
        return data

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "watch_all": data["watch"] == "all",
            "watched": list(data.get("watched_exporters") or []),
            "immediate_kinds": data.get("immediate_kinds") or [],
            "digest": bool(data.get("digest")),
            "digest_hour": data["digest_hour"],
            "time_zone": data["time_zone"],
            "language": data["language"],
        }


# --- webhooks ----------------------------------------------------------------------------------


class WebhookForm(forms.Form):
    """A new webhook. The secret is offered freshly generated; the owner copies it now, for it
    is never shown again."""

    url = forms.CharField(
        label=_("URL"),
        max_length=500,
        help_text=_("https://…, or http:// to localhost only."),
        widget=forms.URLInput(attrs={"placeholder": "https://erp.example.com/tracker-events"}),
    )
    events = forms.MultipleChoiceField(
        label=_("Events"),
        choices=WebhookEvent.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every type."),
    )
    exporters = ExporterCheckboxes(
        label=_("Exporters"),
        queryset=None,
        required=False,
        widget=filter_checkboxes(),
        help_text=_("None ticked: every exporter you may see, including ones added later."),
    )
    secret = forms.CharField(
        label=_("Secret"),
        min_length=SECRET_MIN,
        max_length=SECRET_MAX,
        help_text=_(
            "Signs every delivery (X-Tracker-Signature). Copy it now: it is never shown again."
        ),
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["exporters"].queryset = license_selectors.exporter_list(  # type: ignore[attr-defined]
            user=user
        ).order_by("name")
        if not self.is_bound:
            self.initial.setdefault("secret", new_secret())

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        validate_url(url)
        return url
