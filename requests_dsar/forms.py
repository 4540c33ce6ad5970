from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import DataSubjectRequest
from .services import DETAILS_MAX_LENGTH


class RequestForm(forms.Form):
    type = forms.ChoiceField(
        label=_("What do you want us to do?"),
        choices=DataSubjectRequest.Type.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose what you want us to do."),
            "invalid_choice": _("Choose one of the kinds of request in the list."),
        },
    )
    email = forms.CharField(
        label=_("Your email address"),
        max_length=254,
        help_text=_("We send a link to this address. The request counts once you have followed it."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={"required": _("Enter an email address.")},
    )
    name = forms.CharField(
        label=_("Your name"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    organisation = forms.CharField(
        label=_("Your organisation"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    details = forms.CharField(
        label=_("Details"),
        required=False,
        max_length=DETAILS_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_(
            "For a correction: what is wrong, and what is right. For an objection or a restriction: "
            "what it concerns."
        ),
        error_messages={"max_length": _("Please keep the text under %(limit_value)d characters.")},
    )


class ConfirmForm(forms.Form):
    """An explicit button, so that a mail scanner opening the link does not use it up."""
