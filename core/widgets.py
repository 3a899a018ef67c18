"""Form widgets that `static/js/picker.js` enhances, and that work as they are without it.

- `filter_select_multiple()`: a plain `<select multiple>`; with the script it becomes a text
  filter over a list of check boxes, which sets the very same options (the form submits the
  same field, the same values).
- `filter_checkboxes()`: check boxes; with the script a text filter hides those that do not
  match.

They are Django's own widgets with data attributes (so templates that look at a field's
widget type see `selectmultiple` and `checkboxselectmultiple` as before). The script's words —
the filter's placeholder, the count it announces — are those attributes, translated lazily
when the page is rendered in its language, so the script has no strings of its own.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _


def picker_attrs() -> dict[str, Any]:
    """The data attributes the script reads."""
    return {
        "data-picker": "",
        "data-picker-filter": _("Type to filter"),
        # {shown}, {total} and {chosen} are filled in by the script
        "data-picker-status": _("{shown} of {total} shown, {chosen} chosen"),
        "data-picker-empty": _("Nothing matches."),
    }


def filter_select_multiple(*, size: int = 6, **attrs: Any) -> forms.SelectMultiple:
    """A multi-select that filters as you type (see the module docstring)."""
    return forms.SelectMultiple(attrs={"size": size, **attrs, **picker_attrs()})


def filter_checkboxes(**attrs: Any) -> forms.CheckboxSelectMultiple:
    """Check boxes with a filter as you type: the wrapper gets the class `picker-group`, each
    box the script's words."""
    css = " ".join(filter(None, [attrs.pop("class", ""), "picker-group"]))
    return forms.CheckboxSelectMultiple(attrs={**attrs, **picker_attrs(), "class": css})
