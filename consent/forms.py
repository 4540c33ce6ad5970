from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from core.validators import clean_email

from .models import Purpose


def signup_wording(purpose: Purpose, *, language: str) -> str:
    """The exact sentence shown beside a topic's checkbox; stored, with its hash, in the ledger."""
    if language.startswith("en"):
        return (
            f"Yes, IntegrasjonsPartner BITS AS may email me about: {purpose.name_en}. "
            f"{purpose.description_en} I can withdraw this consent at any time with the link in every email."
        )
    return (
        f"Ja, IntegrasjonsPartner BITS AS kan sende meg e-post om: {purpose.name_nb}. "
        f"{purpose.description_nb} Jeg kan trekke samtykket tilbake når som helst med lenken i hver e-post."
    )


class SubscribeForm(forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=200)
    email = forms.EmailField(label=_("Your work email"), max_length=254)
    topics = forms.MultipleChoiceField(
        label=_("What would you like to hear about?"), widget=forms.CheckboxSelectMultiple, choices=()
    )

    def __init__(self, *args: object, purposes: list[Purpose], language: str, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["topics"].choices = [(p.code, signup_wording(p, language=language)) for p in purposes]
        self.fields["topics"].error_messages["required"] = _("Choose at least one topic.")

    def clean_email(self) -> str:
        return clean_email(self.cleaned_data["email"])
