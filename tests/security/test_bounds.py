"""Every number a manager types has bounds, and a value past them is refused with a message a
person understands: never stored, never a constraint's name or a 500."""

from __future__ import annotations

import importlib
import inspect

import pytest
from django import forms
from django.apps import apps
from django.core.validators import MaxValueValidator
from django.db import models
from django.urls import reverse

from feedback.models import InvitationRules
from tests.factories import SurveyFactory

FORM_MODULES = [
    "servicedesk.forms",
    "design.forms",
    "delivery.forms",
    "feedback.forms",
    "feedback.invitations.forms",
    "recovery.forms",
    "dashboard.forms",
]
OUR_APPS = {"servicedesk", "security", "design", "delivery", "feedback", "recovery", "dashboard"}


def _forms():
    """Every form class the app modules define (formsets' row forms included), but abstract bases
    (a ModelForm with no model)."""
    for name in FORM_MODULES:
        module = importlib.import_module(name)
        for _n, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, forms.BaseFormSet) and cls.__module__ == "django.forms.formsets":
                cls = cls.form  # a formset_factory() class: check the form of its rows
            elif cls.__module__ != name:
                continue
            if not issubclass(cls, forms.BaseForm):
                continue
            if issubclass(cls, forms.BaseModelForm) and cls._meta.model is None:
                continue
            yield cls


def _bounded(form_class, name: str, field: forms.Field) -> bool:
    if field.max_value is not None:
        return True
    if isinstance(field, forms.DecimalField) and field.max_digits:
        return True  # "no more than N digits"
    model = getattr(getattr(form_class, "_meta", None), "model", None)
    if model is None:
        return False
    validators = model._meta.get_field(name).validators
    return any(isinstance(v, MaxValueValidator) for v in validators)


def test_every_number_on_a_manager_form_has_an_upper_bound():
    unbounded = [
        f"{form_class.__module__}.{form_class.__name__}.{name}"
        for form_class in _forms()
        for name, field in form_class.base_fields.items()
        if isinstance(field, forms.IntegerField | forms.FloatField) and not _bounded(form_class, name, field)
    ]
    assert unbounded == []


def test_every_check_constraint_says_what_is_wrong_in_words():
    """A form that breaks a constraint shows its message: never "Constraint “…” is violated."."""
    silent = [
        f"{model._meta.label}.{constraint.name}"
        for model in apps.get_models()
        if model._meta.app_label in OUR_APPS
        for constraint in model._meta.constraints
        if isinstance(constraint, models.CheckConstraint)
        and constraint.violation_error_message == constraint.default_violation_error_message
    ]
    assert silent == []


def _as_posted(form: forms.BaseForm) -> dict[str, object]:
    """What a browser posts for this form unchanged: checked boxes as "on", others as shown."""
    data: dict[str, object] = {}
    for name in form.fields:
        value = form[name].value()
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        elif hasattr(value, "strftime"):
            data[name] = value.strftime("%H:%M")
        elif value is not None:
            data[name] = value
    return data


def test_a_retention_period_of_99_999_999_999_days_is_refused_with_the_limit(manager_client):
    url = reverse("invitations:invitation_rules")
    before = InvitationRules.current().purge_after_days
    data = _as_posted(manager_client.get(url).context["form"])
    assert manager_client.post(url, data).status_code == 302  # unchanged, it saves

    response = manager_client.post(url, {**data, "purge_after_days": "99999999999"})
    assert response.status_code == 400
    assert "less than or equal to 3650" in response.content.decode()
    assert InvitationRules.current().purge_after_days == before


@pytest.mark.parametrize(("field", "value"), [("negative_rating_max", "6"), ("negative_nps_max", "11")])
def test_a_threshold_off_its_scale_reads_as_a_sentence_not_a_constraint_name(manager_client, field, value):
    url = reverse("feedback:survey_update", args=[SurveyFactory().pk])
    data = _as_posted(manager_client.get(url).context["form"])
    response = manager_client.post(url, {**data, field: value})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Constraint" not in html
    assert "less than or equal to" in html
