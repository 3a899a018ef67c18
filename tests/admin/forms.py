"""Post an admin change form as a browser would: what the page shows, plus the changes."""

from __future__ import annotations

from typing import Any

from django.urls import reverse


def _value(bound: Any) -> Any:
    value = bound.value()
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return value


def form_data(page: Any, **changes: Any) -> dict[str, Any]:
    """The fields of the admin form `page` shows (with their inlines) as POST data."""
    assert page.status_code == 200, page.status_code
    data: dict[str, Any] = {}
    form = page.context["adminform"].form
    for name in form.fields:
        data[name] = _value(form[name])
    for inline in page.context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        for name in management.fields:
            data[f"{formset.prefix}-{name}"] = management[name].value()
        for sub in formset.forms:
            for name in sub.fields:
                data[sub.add_prefix(name)] = _value(sub[name])
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return data


def post_change(client: Any, obj: Any, **changes: Any) -> Any:
    meta = obj._meta
    url = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])
    return client.post(url, form_data(client.get(url), **changes))


def post_add(client: Any, model: Any, **fields: Any) -> Any:
    meta = model._meta
    url = reverse(f"admin:{meta.app_label}_{meta.model_name}_add")
    return client.post(url, form_data(client.get(url), **fields))


def post_action(client: Any, model: Any, action: str, objects: Any) -> Any:
    meta = model._meta
    return client.post(
        reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"),
        {"action": action, "_selected_action": [o.pk for o in objects]},
        follow=True,
    )


def field_errors(page: Any, field: str) -> list[str]:
    """The errors the re-rendered admin form shows on `field`."""
    assert page.status_code == 200, page.status_code
    return list(page.context["adminform"].form.errors.get(field, []))


def page_messages(page: Any) -> list[str]:
    return [str(m) for m in page.context["messages"]]


def non_field_errors(page: Any) -> list[str]:
    assert page.status_code == 200, page.status_code
    return list(page.context["adminform"].form.non_field_errors())
