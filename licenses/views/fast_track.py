"""The fast-track log, its form with a preview step, a decision's page and its revocation."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.errors import DomainError
from core.web import (
    Page,
    add_errors,
    show_date,
)

from .. import fasttrack, flags, selectors
from ..events import payload
from ..forms import (
    DecisionForm,
    RevokeForm,
)
from ..models import EventKind
from ..timeline import DECISION_STATES


class FastTrackList(Page):
    """The log of fast-track decisions with their scope and effect (read-only for now)."""

    permission_required = "licenses.view_fasttrackdecision"

    def get(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        decisions = list(
            selectors.decision_list(user=user).prefetch_related(
                "items",
                Prefetch("exporters", queryset=selectors.exporter_list(user=user)),
                Prefetch("applications", queryset=selectors.application_list(user=user)),
            )
        )
        limited = selectors.visible_exporter_ids(user) is not None
        figures = fasttrack.decision_figures(decisions=decisions, user=user)
        rows = []
        now = timezone.now()
        for d in decisions:
            state = fasttrack.decision_state(d, now=now)
            rows.append(
                {
                    "decision": d,
                    "affected": figures[d.pk].affected_count,
                    "median_change": figures[d.pk].median_change_days,
                    "in_force": state == "in force",
                    "state": DECISION_STATES.get(state, state),
                    "state_css": DECISION_STATE_CSS.get(state, "draft"),
                    "period": _("%(from)s to %(until)s")
                    % {
                        "from": show_date(d.effective_from),
                        "until": show_date(d.effective_until)
                        if d.effective_until
                        else _("open-ended"),
                    },
                }
            )
        return render(
            request,
            "licenses/fast_track_list.html",
            {
                "rows": rows,
                "limited": limited,
                "may_log": user.has_perm("licenses.add_fasttrackdecision"),
            },
        )


DECISION_STATE_CSS = {
    "scheduled": "draft",
    "applying": "submitted",
    "in force": "approved",
    "ended": "expired",
    "revoked": "rejected",
    "removing": "submitted",
}

EVENT_LIMIT = 200


def authority_day(moment: Any, tz: Any) -> Any:
    """A due instant as its authority states the day (the day whose end it is); nothing for
    what is not an instant (stored data of another shape)."""
    import datetime as dt

    if isinstance(moment, str):
        try:
            moment = dt.datetime.fromisoformat(moment)
        except ValueError:
            return None
    if not isinstance(moment, dt.datetime):
        return None
    return (moment.astimezone(tz) - dt.timedelta(microseconds=1)).date()


def change_text(days: Any) -> str:
    """A change of due date in words: "12 days earlier", "3 days later", "no change"."""
    if isinstance(days, bool) or not isinstance(days, int | float | str | Decimal):
        return ""
    try:
        days = float(days)
    except ValueError:
        return ""
    shown = int(days) if days.is_integer() else days
    if days < 0:
        return _("%(n)s days earlier") % {"n": -shown}
    if days > 0:
        return _("%(n)s days later") % {"n": shown}
    return _("no change")


class FastTrackCreate(Page):
    """Log a decision in two steps: the form previews what it would do (how many pending
    applications it would move and by how much, computed without writing, and what logging it
    now sets off at once — flags, e-mails — found by logging it in a savepoint that is rolled
    back), then logs it — only as previewed: a form changed after its preview is previewed
    again."""

    permission_required = "licenses.add_fasttrackdecision"

    def get(self, request: HttpRequest) -> HttpResponse:
        today = timezone.localdate()
        form = DecisionForm(
            user=request.user, initial={"announced_on": today, "effective_from": today}
        )
        return self.page(form)

    def post(self, request: HttpRequest) -> HttpResponse:
        form = DecisionForm(request.POST, user=request.user)
        if not form.is_valid():
            return self.page(form)
        now = timezone.now()
        data = form.cleaned_data
        facts = form.service_kwargs()
        try:
            fasttrack.decision_check(
                **facts,
                announced_on=data["announced_on"],
                source=data["source"],
                actor=request.user,
                now=now,
                require_announcement=True,
            )
            preview = fasttrack.decision_preview(
                **facts, announced_on=data["announced_on"], actor=request.user, now=now
            )
        except DomainError as exc:
            add_errors(form, exc)
            return self.page(form)
        fingerprint = form.fingerprint()
        action = request.POST.get("action")
        if action == "log" and request.POST.get("previewed") != fingerprint:
            messages.warning(
                request,
                _("The form changed after its preview: check this preview, then log it."),
            )
            action = "preview"
        if action != "log":
            try:
                outcome = fasttrack.decision_consequences(
                    **facts,
                    announced_on=data["announced_on"],
                    source=data["source"],
                    note=data.get("note") or "",
                    actor=request.user,
                    now=now,
                )
            except DomainError as exc:
                add_errors(form, exc)
                return self.page(form)
            return self.page(
                form,
                preview=preview,
                outcome=outcome,
                previewed=fingerprint,
                authority=data["authority"],
            )
        try:
            decision = fasttrack.decision_log(
                **facts,
                announced_on=data["announced_on"],
                source=data["source"],
                note=data.get("note") or "",
                actor=request.user,
                now=now,
            )
        except DomainError as exc:
            add_errors(form, exc)
            return self.page(form)
        messages.success(request, logged_message(decision))
        return redirect("fast-track-detail", pk=decision.pk)

    def page(self, form: DecisionForm, **context: Any) -> HttpResponse:
        preview = context.get("preview")
        if preview is not None:
            tz = context["authority"].tz
            context["rows"] = [
                {
                    "application": row.application,
                    "exporter": row.exporter_name,
                    "old": authority_day(row.old_due_at, tz),
                    "new": authority_day(row.new_due_at, tz),
                    "change": change_text(row.change_days),
                }
                for row in preview.sample
            ]
            outcome = context.get("outcome")
            labels = dict(flags.choices())
            if outcome is not None:
                context["flag_counts"] = [
                    {
                        "kind": kind,
                        "label": label,
                        "raised": outcome.raised.get(kind, 0),
                        "cleared": outcome.cleared.get(kind, 0),
                    }
                    for kind, label in labels.items()
                    if outcome.raised.get(kind) or outcome.cleared.get(kind)
                ]
            if outcome is not None and outcome.sample:
                context["outcome_rows"] = [
                    {
                        "application": row.application,
                        "exporter": row.exporter_name,
                        "old": authority_day(row.old_due_at, tz),
                        "new": authority_day(row.new_due_at, tz),
                        "change": change_text(row.change_days),
                        "flags": [labels.get(kind, kind) for kind in row.flags],
                    }
                    for row in outcome.sample
                ]
            context["median"] = change_text(preview.median_change_days)
            context["range"] = (
                (change_text(preview.min_change_days), change_text(preview.max_change_days))
                if preview.min_change_days is not None
                else None
            )
        return render(self.request, "licenses/fast_track_form.html", {"form": form, **context})


def logged_message(decision: Any) -> str:
    if decision.progress_total and decision.progress_finished_at is None:
        return _("Fast-track decision logged; its due dates are being recomputed.")
    if decision.applied:
        n = decision.affected_count
        return ngettext(
            "Fast-track decision logged: it moved the due date of %(n)d pending application.",
            "Fast-track decision logged: it moved the due dates of %(n)d pending applications.",
            n,
        ) % {"n": n}
    return _("Fast-track decision logged; it is not in force today.")


def _decision(request: HttpRequest, pk: int) -> Any:
    return get_object_or_404(selectors.decision_list(user=request.user), pk=pk)


def _writable_decision(request: HttpRequest, pk: int) -> Any:
    """A decision this user may revoke (else 404, as if it did not exist for writing)."""
    return get_object_or_404(selectors.decision_writable_list(user=request.user), pk=pk)


class FastTrackDetail(Page):
    """A decision: its facts and scope, its state, what it did to the due dates (of the
    applications this user may see), and for managers the form that revokes it."""

    permission_required = "licenses.view_fasttrackdecision"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return decision_page(request, _decision(request, pk), RevokeForm())


def decision_page(request: HttpRequest, decision: Any, revoke_form: RevokeForm) -> HttpResponse:
    user = request.user
    effect = fasttrack.decision_effect(decision, user=user, now=timezone.now())
    tz = decision.authority.tz
    events = (
        selectors.event_list(user=user)
        .filter(
            decision=decision,
            kind__in=[EventKind.FAST_TRACK_APPLIED, EventKind.FAST_TRACK_REMOVED],
            application__isnull=False,
        )
        .select_related("application__exporter")
        .order_by("-recorded_at", "-id")
    )
    total = events.count()
    moves = [
        {
            "event": e,
            "application": e.application,
            "old": authority_day(payload(e).get("from"), tz),
            "new": authority_day(payload(e).get("to"), tz),
            "change": change_text(payload(e).get("change_days")),
        }
        for e in events[:EVENT_LIMIT]
    ]
    may_revoke = (
        user.has_perm("licenses.revoke_fasttrackdecision")
        and decision.revoked_at is None
        and selectors.decision_may_write(decision=decision, user=user)
    )
    return render(
        request,
        "licenses/fast_track_detail.html",
        {
            "decision": decision,
            "effect": effect,
            "state": DECISION_STATES.get(effect.state, effect.state),
            "state_css": DECISION_STATE_CSS.get(effect.state, "draft"),
            "median": change_text(effect.median_change_days),
            "moves": moves,
            "more": max(total - EVENT_LIMIT, 0),
            "limited": selectors.visible_exporter_ids(user) is not None,
            "revoke_form": revoke_form if may_revoke else None,
        },
    )


class FastTrackRevoke(Page):
    permission_required = "licenses.revoke_fasttrackdecision"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return redirect("fast-track-detail", pk=_decision(request, pk).pk)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        decision = _writable_decision(request, pk)
        form = RevokeForm(request.POST)
        if form.is_valid():
            try:
                decision = fasttrack.decision_revoke(
                    decision=decision,
                    actor=request.user,
                    now=timezone.now(),
                    note=form.cleaned_data["note"],
                )
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(
                    request, _("The decision is revoked; the due dates it moved are recomputed.")
                )
                return redirect("fast-track-detail", pk=decision.pk)
        return decision_page(request, decision, form)
