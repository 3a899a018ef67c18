"""The list filters' selects are drawn in Python (`core.web.FilterRenderer`): the markup is
character for character what Django's Jinja2 templates write, for every select of the list
pages' filters in both languages, and for the cases those filters do not have (option
groups, a value and a label to escape, attributes true and false, several values chosen)."""

from __future__ import annotations

import pytest
from django import forms
from django.forms.renderers import Jinja2
from django.test import RequestFactory
from django.utils import translation
from markupsafe import escape

from core.web import SELECT_TEMPLATE, FilterForm, FilterRenderer, select_markup
from licenses.forms import ApplicationFilter
from licenses.models import LicenseApplication
from shipments.forms import ConsigneeFilter, ShipmentFilter
from shipments.models import Consignee, Shipment

TEMPLATES = Jinja2()


def both(widget: forms.Widget, name: str, value: object) -> tuple[str, str]:
    context = widget.get_context(name, value, {"id": f"id_{name}"})
    return (
        str(widget._render(widget.template_name, context, FilterRenderer())),
        str(widget._render(widget.template_name, context, TEMPLATES)),
    )


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize(
    ("filterset", "model", "data"),
    [
        (ShipmentFilter, Shipment, None),
        (ShipmentFilter, Shipment, {"status": "open", "destination": "CN", "flag": "at_risk"}),
        (ApplicationFilter, LicenseApplication, {"status": "accepted", "license_type": "dual_use"}),
        (ConsigneeFilter, Consignee, {"country": "DE"}),
    ],
)
def test_every_select_of_the_list_filters_is_the_templates_markup(
    officer, ganzhou, baotou, filterset, model, data, language
):
    request = RequestFactory().get("/")
    request.user = officer
    with translation.override(language):
        form = filterset(data, queryset=model.objects.all(), request=request).form
        assert isinstance(form.renderer, FilterRenderer)
        selects = [
            f for f in form.visible_fields() if f.field.widget.template_name == SELECT_TEMPLATE
        ]
        assert len(selects) >= 2
        drawn = []
        for field in selects:
            fast, template = both(field.field.widget, field.html_name, field.value())
            assert fast == template, field.name
            assert fast.count("<option") == len(list(field.field.widget.choices))
            drawn.append(fast)
    # the exporters' select offers both exporters, by name
    assert all(str(escape(e.name)) in "".join(drawn) for e in (ganzhou, baotou))


def test_groups_escaping_attributes_and_several_choices_are_the_templates_markup():
    choices = [
        ("", "Any"),
        ("Group <b>&</b>", [('a"b', "Tom's <i>"), ("c&d", "plain")]),
        (7, 'Seven "7"'),
    ]
    widget = forms.SelectMultiple(
        attrs={"data-x": 'it\'s "quoted"', "required": True, "disabled": False}, choices=choices
    )
    fast, template = both(widget, "pick", ['a"b', "7"])
    assert fast == template
    assert "<optgroup" in fast and "&#34;" in fast and " selected" in fast
    assert "disabled" not in fast
    fast, template = both(forms.Select(choices=choices), "one", "c&d")
    assert fast == template
    assert fast.count(" selected") == 1


def test_an_option_with_a_template_of_its_own_is_left_to_the_templates():
    widget = forms.Select(choices=[("a", "A")])
    context = widget.get_context("x", "a", {})
    for group in context["widget"]["optgroups"]:
        for option in group[1]:
            option["template_name"] = "django/forms/widgets/input_option.html"
    assert select_markup(context["widget"]) is None
    drawn = FilterRenderer().render(SELECT_TEMPLATE, context)
    assert drawn == TEMPLATES.render(SELECT_TEMPLATE, context)


def test_the_filter_form_draws_with_the_python_selects():
    assert isinstance(FilterForm().renderer, FilterRenderer)
