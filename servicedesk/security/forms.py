from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from servicedesk.forms import BootstrapWidgets


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Six-digit code"),
        help_text=_("Open your authenticator app and type the code it shows for Servicedesk."),
        min_length=6,
        max_length=6,
        strip=True,
        error_messages={
            "required": _("Type the six-digit code from your authenticator app."),
            "min_length": _("The code has six digits."),
            "max_length": _("The code has six digits."),
        },
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9]*"}
        ),
    )

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].replace(" ", "")
        if not code.isdigit():
            raise forms.ValidationError(_("The code has six digits, and only digits."))
        return code


class AuditFilterForm(BootstrapWidgets, forms.Form):
    """The audit page's filter: kind of object, who did it, and a date range (all optional)."""

    kind = forms.ChoiceField(label=_("About"), required=False)
    actor = forms.ModelChoiceField(queryset=None, label=_("Done by"), required=False, empty_label=_("Anyone"))
    since = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs) -> None:
        from servicedesk.audit import KINDS
        from servicedesk.models import User

        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [
            ("", _("Everything")),
            *((key, kind.plural) for key, kind in KINDS.items()),
        ]
        self.fields["actor"].queryset = User.objects.order_by("username")
        self.fields["actor"].label_from_instance = lambda user: user.get_full_name() or user.get_username()

    def clean(self) -> dict:
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        for name in ("since", "until"):
            if cleaned.get(name) and cleaned[name].year < 2000:
                self.add_error(name, _("Choose a date from 2000 onwards."))
        if since and until and until < since:
            self.add_error("until", _("The end of the range must be on or after its start."))
        return cleaned
