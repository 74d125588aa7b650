"""Phone numbers: what libphonenumber makes of what people type, and which a citizen may sign up with."""

from __future__ import annotations

import pytest

from jogo_dispatch.accounts.phones import PhoneRefused, citizen_phone, normalise_phone
from jogo_dispatch.settings import Settings


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("0812-3456-7890", "+6281234567890"),
        ("62812345678", "+62812345678"),  # the calling code typed without "+" (not the area code 062x)
        ("0062 812 345 678", "+62812345678"),
        ("+60 12-345 6789", "+60123456789"),
    ],
)
def test_more_shapes_of_numbers_are_normalised(raw: str, expected: str) -> None:
    assert normalise_phone(raw) == expected


@pytest.mark.parametrize(
    "raw, regions, problem",
    [
        ("+1 555 0101", ["ID"], "invalid"),
        ("+1 202 555 0101", ["ID"], "region_not_allowed"),
        ("+60 12-345 6789", ["ID"], "region_not_allowed"),
        ("0061 2 9999 8888", ["ID"], "region_not_allowed"),
        ("(0341) 491-234", ["ID"], "not_mobile"),
        ("0812", ["ID"], "invalid"),
        ("hello", ["ID"], "not_a_number"),
        ("0812 3456 789O", ["ID"], "not_a_number"),
    ],
)
def test_citizens_sign_up_with_a_mobile_number_of_the_allowed_countries(
    raw: str, regions: list[str], problem: str
) -> None:
    with pytest.raises(PhoneRefused) as refused:
        citizen_phone(raw, regions)
    assert refused.value.problem == problem


def test_allowed_countries_come_from_the_setting() -> None:
    assert citizen_phone("+60 12-345 6789", ["ID", "MY"]) == "+60123456789"
    assert citizen_phone("012-345 6789", ["MY"]) == "+60123456789"  # national form of the first country
    assert Settings(_env_file=None).phone_regions == ["ID"]  # type: ignore[call-arg]
    assert Settings(phone_regions="id, my", _env_file=None).phone_regions == ["ID", "MY"]  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="unknown country"):
        Settings(phone_regions="XX", _env_file=None)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="at least one"):
        Settings(phone_regions=" , ", _env_file=None)  # type: ignore[call-arg]


async def test_registration_refuses_foreign_and_landline_numbers_with_bad_phone(client) -> None:
    for phone, problem in (
        ("+1 555 0101", "invalid"),
        ("+1 202 555 0101", "region_not_allowed"),
        ("0341 491234", "not_mobile"),
        ("12", "invalid"),
    ):
        r = await client.post("/api/v1/citizens", json={"phone": phone, "name": "A", "password": "rahasia-1"})
        assert r.status_code == 400, r.text
        error = r.json()["error"]
        assert error["code"] == "bad_phone" and error["message"].startswith("phone: ")
        assert error["details"] == {"field": "phone", "problem": problem, "regions": ["ID"]}


async def test_another_country_when_the_setting_allows_it(client, app, monkeypatch) -> None:
    monkeypatch.setattr(app.state.runtime.settings, "phone_regions", ["ID", "MY"])
    r = await client.post(
        "/api/v1/citizens", json={"phone": "+60 12-345 6789", "name": "Aminah", "password": "rahasia-1"}
    )
    assert r.status_code == 201 and r.json()["username"] == "+60123456789"


@pytest.mark.parametrize("typed", ["0812-7777-0001", "+62 812 7777 0001", "6281277770001", "81277770001"])
async def test_citizen_logs_in_with_the_number_as_typed(client, typed: str) -> None:
    r = await client.post(
        "/api/v1/citizens", json={"phone": "0812 7777 0001", "name": "Siti", "password": "rahasia-1"}
    )
    assert r.status_code == 201 and r.json()["phone"] == "+6281277770001"
    token = await client.post("/api/v1/auth/token", data={"username": typed, "password": "rahasia-1"})
    assert token.status_code == 200, token.text
    assert token.json()["role"] == "citizen"
