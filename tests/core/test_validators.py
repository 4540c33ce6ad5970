from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from core.validators import (
    clean_email,
    email_is_functional,
    normalise_org_number,
    normalise_phone,
    org_number_check_digit,
)


@pytest.mark.parametrize(
    "number",
    [
        "977187761",  # IntegrasjonsPartner BITS AS, from the privacy policy
        "977 187 761",
        "923609016",  # Equinor ASA
        "974760673",  # Brønnøysundregistrene
    ],
)
def test_it_accepts_real_organisation_numbers(number):
    assert normalise_org_number(number) == number.replace(" ", "")


@pytest.mark.parametrize("number", ["977187762", "923609015", "974760670"])
def test_it_refuses_a_broken_check_digit(number):
    with pytest.raises(ValidationError) as error:
        normalise_org_number(number)
    assert error.value.code == "org_number_check_digit"


@pytest.mark.parametrize("number", ["97718776", "9771877610", "97718776A", ""])
def test_it_refuses_a_number_without_nine_digits(number):
    with pytest.raises(ValidationError) as error:
        normalise_org_number(number)
    assert error.value.code == "org_number_length"


@given(st.text(alphabet="0123456789", min_size=8, max_size=8))
def test_exactly_one_ninth_digit_is_valid_unless_none_is(first_eight):
    valid = []
    for digit in "0123456789":
        try:
            normalise_org_number(first_eight + digit)
            valid.append(digit)
        except ValidationError:
            pass
    expected = org_number_check_digit(first_eight)
    assert valid == ([] if expected is None else [str(expected)])


def test_email_is_trimmed_and_lower_cased():
    assert clean_email("  Ola.Nordmann@Firma.NO ") == "ola.nordmann@firma.no"


@pytest.mark.parametrize("email", ["", "ola", "ola@", "@firma.no", "ola nordmann@firma.no"])
def test_it_refuses_a_malformed_email(email):
    with pytest.raises(ValidationError):
        clean_email(email)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("912 34 567", "+4791234567"),
        ("+47 912 34 567", "+4791234567"),
        ("0047 91234567", "+4791234567"),
        ("22 22 22 22", "+4722222222"),
        ("+46 70 123 45 67", "+46701234567"),
        ("+44 20 7946 0958", "+442079460958"),
        ("", ""),
    ],
)
def test_phone_numbers_are_normalised_to_e164(raw, expected):
    assert normalise_phone(raw) == expected


@pytest.mark.parametrize("raw", ["123", "9123456789", "telefon", "+47 0000"])
def test_it_refuses_an_invalid_phone_number(raw):
    with pytest.raises(ValidationError) as error:
        normalise_phone(raw)
    assert "eight digits" in str(error.value.messages[0])


@pytest.mark.parametrize(
    ("email", "functional"),
    [("post@firma.no", True), ("Faktura@firma.no", True), ("ola.nordmann@firma.no", False)],
)
def test_functional_addresses_are_recognised(email, functional):
    assert email_is_functional(email) is functional
