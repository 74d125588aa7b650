"""Phone numbers as logins: citizens type them in many shapes; one E.164 form is stored."""

from __future__ import annotations

import re

_PHONE_NOISE = re.compile(r"[\s\-().]")
_INDONESIAN = re.compile(r"^\+62[1-9]\d{7,11}$")
_INTERNATIONAL = re.compile(r"^\+[1-9]\d{7,14}$")


def normalise_phone(raw: str) -> str:
    """E.164 form of a phone number as people type it in Indonesia: ``0812-3456-789``, ``62812...``,
    ``+62 (0)812 ...`` and ``812...`` all become ``+62812...``; other countries must start with ``+``
    (or ``00``). Raises ValueError for anything that is not a plausible number."""
    s = _PHONE_NOISE.sub("", raw.strip())
    if s.startswith("00"):
        s = "+" + s[2:]
    if s.startswith("+620"):  # "+62 (0)812..." with the trunk zero kept
        s = "+62" + s[4:]
    elif s.startswith("+"):
        pass
    elif s.startswith("62"):
        s = "+" + s
    elif s.startswith("0"):
        s = "+62" + s[1:]
    elif s.startswith("8"):  # mobile number typed after a printed "+62" / "0"
        s = "+62" + s
    else:
        raise ValueError("not a phone number")
    pattern = _INDONESIAN if s.startswith("+62") else _INTERNATIONAL
    if not pattern.match(s):
        raise ValueError("not a valid phone number (Indonesian numbers: 0812..., 62812... or +62812...)")
    return s
