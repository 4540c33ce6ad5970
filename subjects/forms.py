from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from core.validators import clean_email, normalise_org_number, normalise_phone

from .models import Contact, JobApplication, Organisation


class NormalisingFormMixin:
    """Show staff the stored form of what they typed (E.164 phone, lower-case email)."""

    def clean_email(self) -> str:
        value = self.cleaned_data.get("email", "")
        return clean_email(value) if value else value

    def clean_phone(self) -> str:
        return normalise_phone(self.cleaned_data.get("phone", ""))


class OrganisationForm(NormalisingFormMixin, forms.ModelForm):
    website = forms.URLField(label=_("website"), required=False, assume_scheme="https")

    class Meta:
        model = Organisation
        fields = "__all__"

    def clean_org_number(self) -> str:
        value = self.cleaned_data.get("org_number", "")
        return normalise_org_number(value) if value else ""

    def clean_email(self) -> str:
        # An organisation's address is optional.
        value = self.cleaned_data.get("email", "")
        return super().clean_email() if value else ""


class ContactForm(NormalisingFormMixin, forms.ModelForm):
    class Meta:
        model = Contact
        fields = "__all__"


class JobApplicationForm(NormalisingFormMixin, forms.ModelForm):
    class Meta:
        model = JobApplication
        fields = "__all__"
