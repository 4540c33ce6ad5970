"""Validation and normalisation of identifiers that arrive from people and imports."""

from __future__ import annotations

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.mail.message import sanitize_address
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

# Weights of the modulus-11 check digit of a Norwegian organisation number
# (Brønnøysundregistrene): the ninth digit checks the first eight.
ORG_NUMBER_WEIGHTS = (3, 2, 7, 6, 5, 4, 3, 2)


def org_number_check_digit(first_eight: str) -> int | None:
    """The check digit for eight digits, or None when no valid number exists."""
    remainder = sum(int(d) * w for d, w in zip(first_eight, ORG_NUMBER_WEIGHTS, strict=True)) % 11
    check = 11 - remainder
    if check == 11:
        return 0
    if check == 10:
        return None
    return check


def normalise_org_number(value: str) -> str:
    """Strip spaces (``977 187 761``) and validate; returns the nine digits."""
    digits = "".join(value.split())
    if not digits.isdigit() or len(digits) != 9:
        raise ValidationError(
            _("An organisation number has nine digits, for example 977 187 761."),
            code="org_number_length",
        )
    if org_number_check_digit(digits[:8]) != int(digits[8]):
        raise ValidationError(
            _("This organisation number's check digit is wrong; please check it for typing errors."),
            code="org_number_check_digit",
        )
    return digits


def validate_org_number(value: str) -> None:
    if value:
        normalise_org_number(value)


def normalise_email(value: str) -> str:
    """Trim and lower-case. Addresses are compared case-insensitively everywhere."""
    return (value or "").strip().lower()


def clean_email(value: str) -> str:
    email = normalise_email(value)
    if not email:
        raise ValidationError(_("Enter an email address."), code="email_missing")
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError(
            _("This is not a valid email address; it should look like name@company.no."),
            code="email_invalid",
        ) from None
    validate_email_deliverable(email)
    return email


def validate_email_deliverable(email: str) -> None:
    """The address must survive the encoding our mailer applies to it.

    Found broken: ``kari@\u05d0firma.no`` passed validation, then failed IDNA
    encoding when the confirmation was mailed, after the contact and the
    pending consent were committed. Checked here, before anything is written:
    the domain must encode to IDNA and the local part must be ASCII (SMTP
    without SMTPUTF8 cannot carry anything else).
    """
    local = email.rpartition("@")[0]
    try:
        local.encode("ascii")
        sanitize_address(email, "utf-8")
    except (UnicodeError, ValueError):
        raise ValidationError(
            _(
                "We cannot send email to this address: the part before @ may only use the letters a-z, "
                "digits and . _ -, and the domain must be a valid internet domain."
            ),
            code="email_undeliverable",
        ) from None


def normalise_phone(value: str, *, region: str = "NO") -> str:
    """E.164 form (+4791234567). Numbers without a country code are taken as Norwegian."""
    raw = (value or "").strip()
    if not raw:
        return ""
    if raw.startswith("00"):
        raw = "+" + raw[2:]
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ValidationError(
            _(
                "This is not a valid phone number. Norwegian numbers have eight digits; "
                "others need their country code, such as +46."
            ),
            code="phone_invalid",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def validate_phone(value: str) -> None:
    normalise_phone(value)


# Local parts that name a function rather than a person (Marketing Control Act
# § 15 applies to addresses of named persons, not to post@firma.no).
FUNCTIONAL_LOCAL_PARTS = frozenset(
    {
        "post", "postmottak", "firmapost", "info", "kontakt", "contact", "salg", "sales",
        "support", "kundeservice", "service", "faktura", "invoice", "regnskap", "accounts",
        "admin", "office", "kontor", "hr", "jobb", "jobs", "marketing", "marked", "innkjop",
        "purchasing", "ordre", "orders", "hello", "hei", "mail", "resepsjon", "reception",
        "noreply", "no-reply", "help", "hjelp", "drift", "it", "personvern", "privacy",
    }
)  # fmt: skip


def email_is_functional(email: str) -> bool:
    local = normalise_email(email).split("@", 1)[0]
    return local in FUNCTIONAL_LOCAL_PARTS
