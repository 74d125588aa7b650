"""Phone numbers as logins: citizens type them in many shapes; one E.164 form is stored. What a number is,
where it belongs and whether it is a mobile one are libphonenumber's rules (the ``phonenumbers`` package)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumber, PhoneNumberFormat, PhoneNumberType

DEFAULT_REGION = "ID"
PhoneProblem = Literal["not_a_number", "invalid", "region_not_allowed", "not_mobile"]
# A number libphonenumber cannot tell apart from a landline in some countries counts as mobile.
_MOBILE = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})


class PhoneRefused(ValueError):
    """A number that is not accepted; ``problem`` says why in a word a client can translate."""

    def __init__(self, problem: PhoneProblem, message: str) -> None:
        super().__init__(message)
        self.problem: PhoneProblem = problem


def _candidates(text: str, region: str) -> list[str]:
    """The readings of what was typed, most likely first. People in a country often write its calling code
    without the ``+`` (``62812...``) and the ITU prefix ``00`` for ``+``; libphonenumber only knows the
    country's own international prefixes, so those readings are tried too."""
    if text.startswith("+"):
        return [text]
    digits = "".join(c for c in text if c.isdigit())
    if text.startswith("00"):
        return [text, "+" + text[2:]]
    if digits.startswith(str(phonenumbers.country_code_for_region(region))):
        return ["+" + text, text]
    return [text]


def parse_phone(raw: str, region: str = DEFAULT_REGION) -> PhoneNumber:
    """The valid number ``raw`` stands for; a number without ``+`` is read as one of ``region``
    (``0812-3456-789``, ``62812...``, ``+62 (0)812 ...`` and ``812...`` are all ``+62812...`` in ``ID``).
    Raises PhoneRefused for anything that is not a valid number."""
    text = raw.strip()
    if not text or any(c.isalpha() for c in text):
        raise PhoneRefused("not_a_number", "not a phone number")
    parsed = False
    for candidate in _candidates(text, region):
        try:
            number = phonenumbers.parse(candidate, region)
        except NumberParseException:
            continue
        parsed = True
        if phonenumbers.is_valid_number(number):
            return number
    if not parsed:
        raise PhoneRefused("not_a_number", "not a phone number")
    raise PhoneRefused(
        "invalid", f"not a valid phone number (e.g. {_example(region)} or {_example(region, national=True)})"
    )


def normalise_phone(raw: str, region: str = DEFAULT_REGION) -> str:
    """E.164 form (``+62812...``) of any valid number as people type it; see ``parse_phone``."""
    return phonenumbers.format_number(parse_phone(raw, region), PhoneNumberFormat.E164)


def citizen_phone(raw: str, regions: Sequence[str]) -> str:
    """E.164 form of a citizen's own number: a valid mobile number of one of ``regions`` (the first is
    assumed when no ``+country`` is typed). Raises PhoneRefused."""
    number = parse_phone(raw, regions[0])
    region = phonenumbers.region_code_for_number(number)
    if region not in regions:
        raise PhoneRefused(
            "region_not_allowed",
            f"numbers of {region or 'that country'} are not accepted here (only {', '.join(regions)})",
        )
    if phonenumbers.number_type(number) not in _MOBILE:
        raise PhoneRefused("not_mobile", f"not a mobile number (e.g. {_example(regions[0], national=True)})")
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def _example(region: str, *, national: bool = False) -> str:
    example = phonenumbers.example_number_for_type(region, PhoneNumberType.MOBILE)
    if example is None:
        return "+..."
    form = PhoneNumberFormat.NATIONAL if national else PhoneNumberFormat.INTERNATIONAL
    return phonenumbers.format_number(example, form)
