"""Forms and views the review-window rule and fast-track decision admins need (the admin
classes live in `licenses.admin`). Every write goes through `licenses.rules` and
`licenses.fasttrack`; the forms validate with the same checks the services run, so errors
show next to their fields."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.errors import DomainError, InvalidInput

from . import selectors
from .fasttrack import Preview, decision_check, decision_preview, decision_revoke
from .models import FastTrackDecision, WindowRule
from .rules import rule_check


def add_errors(form: forms.BaseForm, error: InvalidInput) -> None:
    """Put a service's field errors next to the form's fields (others on top)."""
    placed = False
    for field, message in error.fields.items():
        if field in form.fields:
            form.add_error(field, message)
            placed = True
    if not placed:
        form.add_error(None, error.message)


class WindowRuleForm(forms.ModelForm):
    class Meta:
        model = WindowRule
        fields = ["authority", "item", "destination", "license_type", "window_days", "note"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        authority = data.get("authority") or getattr(self.instance, "authority", None)
        if self.errors:
            return data
        try:
            data["destination"] = rule_check(
                authority=authority,
                window_days=data.get("window_days"),
                item=data.get("item"),
                destination=data.get("destination") or "",
                license_type=data.get("license_type") or "",
            )
        except InvalidInput as exc:
            add_errors(self, exc)
        return data


class DecisionAddForm(forms.ModelForm):
    """Logging a decision: its facts, validated by `decision_check` (the actor is set by the
    admin so that a user limited to some exporters is held to them)."""

    actor: Any = None

    destinations = forms.CharField(
        label=_("Destinations"),
        required=False,
        help_text=_("Two-letter ISO country codes separated by commas, e.g. US, DE. Empty: any."),
    )

    class Meta:
        model = FastTrackDecision
        fields = [
            "authority",
            "announced_on",
            "source",
            "window_days",
            "effective_from",
            "effective_until",
            "destinations",
            "items",
            "exporters",
            "applications",
            "note",
        ]

    def clean_destinations(self) -> list[str]:
        raw = self.cleaned_data.get("destinations") or ""
        return [part for part in re.split(r"[\s,;]+", raw.strip()) if part]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        try:
            checked = decision_check(
                authority=data.get("authority"),
                announced_on=data.get("announced_on"),
                source=data.get("source"),
                window_days=data.get("window_days"),
                effective_from=data.get("effective_from"),
                effective_until=data.get("effective_until"),
                destinations=data.get("destinations") or [],
                items=data.get("items") or [],
                exporters=data.get("exporters") or [],
                applications=data.get("applications") or [],
                actor=self.actor,
                now=timezone.now(),
                require_announcement=True,
            )
        except InvalidInput as exc:
            add_errors(self, exc)
        else:
            data["destinations"] = checked.destinations
        return data


class DecisionChangeForm(forms.ModelForm):
    """Once logged, only the wording can be corrected (see `decision_edit`)."""

    class Meta:
        model = FastTrackDecision
        fields = ["source", "note"]


class RevokeForm(forms.Form):
    note = forms.CharField(
        label=_("Why"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("e.g. the authority's announcement that ends the fast track."),
    )


def local_day(moment: dt.datetime | None, tz: Any) -> dt.date | None:
    """The day a due date names: `due_at` is the end of that day in the authority's zone."""
    if moment is None:
        return None
    return (moment.astimezone(tz) - dt.timedelta(seconds=1)).date()


def preview_context(preview: Preview, authority: Any) -> dict[str, Any]:
    tz = authority.tz
    return {
        "preview": preview,
        "preview_rows": [
            {
                "reference": row.application.reference,
                "exporter": row.exporter_name,
                "destination": row.application.destination,
                "old": local_day(row.old_due_at, tz),
                "new": local_day(row.new_due_at, tz),
                "change": row.change_days,
            }
            for row in preview.sample
        ],
    }


def preview_view(
    model_admin: admin.ModelAdmin, request: HttpRequest, form_url: str, extra_context: Any
) -> HttpResponse:
    """The add form again, bound, with what the decision would do — nothing is saved."""
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    form_class = model_admin.get_form(request, None, change=False)
    form = form_class(request.POST, request.FILES)
    context: dict[str, Any] = {}
    if form.is_valid():
        data = form.cleaned_data
        try:
            preview = decision_preview(
                authority=data["authority"],
                window_days=data["window_days"],
                effective_from=data["effective_from"],
                effective_until=data.get("effective_until"),
                destinations=data.get("destinations") or [],
                items=data.get("items") or [],
                exporters=data.get("exporters") or [],
                applications=data.get("applications") or [],
                now=timezone.now(),
                announced_on=data.get("announced_on"),
                actor=request.user,
            )
        except InvalidInput as exc:
            add_errors(form, exc)
        else:
            context = preview_context(preview, data["authority"])
    fieldsets: Any = list(model_admin.get_fieldsets(request, None))
    admin_form = helpers.AdminForm(
        form,
        fieldsets,
        model_admin.get_prepopulated_fields(request, None),
        model_admin.get_readonly_fields(request, None),
        model_admin=model_admin,
    )
    opts = model_admin.model._meta
    context.update(
        {
            **model_admin.admin_site.each_context(request),
            "title": _("Add %s") % opts.verbose_name,
            "subtitle": None,
            "adminform": admin_form,
            "object_id": None,
            "original": None,
            "is_popup": False,
            "to_field": None,
            "media": model_admin.media + admin_form.media,
            "inline_admin_formsets": [],
            "errors": helpers.AdminErrorList(form, []),
            "preserved_filters": model_admin.get_preserved_filters(request),
            **(extra_context or {}),
        }
    )
    return model_admin.render_change_form(
        request, context, add=True, change=False, obj=None, form_url=form_url
    )


def revoke_view(
    model_admin: admin.ModelAdmin, request: HttpRequest, object_id: str
) -> HttpResponse:
    """Confirm a revocation (with a note) and run it through `decision_revoke`."""
    decision = model_admin.get_object(request, object_id)
    if decision is None:
        raise Http404
    if not request.user.has_perm("licenses.revoke_fasttrackdecision"):
        raise PermissionDenied
    if not selectors.decision_may_write(decision=decision, user=request.user):
        raise Http404  # as on the pages and in the API: not there for this user to revoke
    change_url = reverse("admin:licenses_fasttrackdecision_change", args=[decision.pk])
    if decision.revoked_at is not None:
        messages.error(request, _("This decision was already revoked."))
        return HttpResponseRedirect(change_url)
    form = RevokeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            decision_revoke(
                decision=decision,
                actor=request.user,
                now=timezone.now(),
                note=form.cleaned_data["note"],
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            decision.refresh_from_db()
            if decision.progress_finished_at is None:
                messages.success(
                    request,
                    _(
                        "Revoked. %(n)d pending applications are being recomputed; "
                        "see the progress below."
                    )
                    % {"n": decision.progress_total},
                )
            else:
                messages.success(request, _("Revoked; the windows that govern without it apply."))
        return HttpResponseRedirect(change_url)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "original": decision,
        "title": _("Revoke %(decision)s") % {"decision": decision},
        "form": form,
        "move": "revoke",
        "change_url": change_url,
    }
    return TemplateResponse(request, "admin/move_form.html", context)
