"""What a citizen's phone gets back for bad input on registration, reports and SOS: every refusal has a
machine-readable code the app translates (``error.code``, and for a 422 each ``details[].code``)."""

from __future__ import annotations

from typing import Any

from tests.reports.helpers import MALANG, citizen, report_body

# The per-field codes a citizen's phone may meet: pydantic's error types plus our own checks.
FIELD_CODES = {
    "missing",
    "extra_forbidden",
    "string_too_short",
    "string_too_long",
    "string_type",
    "float_parsing",
    "float_type",
    "greater_than_equal",
    "less_than_equal",
    "datetime_from_date_parsing",
    "datetime_parsing",
    "json_invalid",
    "model_attributes_type",
    "no_position_fix",
    "timezone_required",
    "datetime_out_of_range",
}


def problems(r: Any) -> list[dict[str, Any]]:
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "validation_error"
    for d in error["details"]:
        assert d["code"] == d["type"] and d["code"] in FIELD_CODES, d
        assert isinstance(d["loc"], list) and isinstance(d["msg"], str)
    return list(error["details"])


async def test_registration_problems_carry_codes_and_limits(client) -> None:
    r = await client.post("/api/v1/citizens", json={"phone": "0812 3456 7890", "name": "", "password": "123"})
    by_field = {d["loc"][-1]: d for d in problems(r)}
    assert by_field["name"]["code"] == "string_too_short" and by_field["name"]["ctx"] == {"min_length": 1}
    assert by_field["password"]["code"] == "string_too_short" and by_field["password"]["ctx"] == {
        "min_length": 6
    }
    r = await client.post("/api/v1/citizens", json={"name": "A", "password": "rahasia-1", "role": "admin"})
    assert {(d["loc"][-1], d["code"]) for d in problems(r)} == {
        ("phone", "missing"),
        ("role", "extra_forbidden"),
    }
    r = await client.post(
        "/api/v1/citizens", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert [d["code"] for d in problems(r)] == ["json_invalid"]


async def test_report_and_sos_problems_carry_codes(client) -> None:
    _, me = await citizen(client)
    r = await client.post("/api/v1/reports", headers=me, json=report_body(lat=0.0, lon=0.0))
    [d] = problems(r)
    assert d["code"] == "no_position_fix" and d["ctx"] == {"what": "the incident position"}
    r = await client.post("/api/v1/reports", headers=me, json=report_body(lat=91, description=""))
    assert {(d["loc"][-1], d["code"]) for d in problems(r)} == {
        ("lat", "less_than_equal"),
        ("description", "string_too_short"),
    }
    # a form sends text: the same codes
    form = {k: str(v) for k, v in report_body(reporter_lat="utara").items()}
    r = await client.post("/api/v1/reports", headers=me, data=form)
    assert [(d["loc"][-1], d["code"]) for d in problems(r)] == [("reporter_lat", "float_parsing")]

    r = await client.post("/api/v1/sos", headers=me, json={"lat": 0, "lon": 0})
    assert [d["code"] for d in problems(r)] == ["no_position_fix"]
    sos = (await client.post("/api/v1/sos", headers=me, json={"lat": MALANG[0], "lon": MALANG[1]})).json()
    r = await client.post(
        f"/api/v1/sos/{sos['sos_id']}/location",
        headers=me,
        json={"lat": MALANG[0], "lon": MALANG[1], "recorded_at": "2026-01-01T00:00:00"},
    )
    assert [(d["loc"][-1], d["code"]) for d in problems(r)] == [("recorded_at", "timezone_required")]
    # year 1 or 9999 with an offset has no UTC time: a 422, never a 500
    for edge in ("0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"):
        r = await client.post(
            f"/api/v1/sos/{sos['sos_id']}/location",
            headers=me,
            json={"lat": MALANG[0], "lon": MALANG[1], "recorded_at": edge},
        )
        assert [(d["loc"][-1], d["code"]) for d in problems(r)] == [("recorded_at", "datetime_out_of_range")]
    r = await client.post(f"/api/v1/sos/{sos['sos_id']}/end", headers=me, json={"reason": "x" * 501})
    assert [(d["loc"][-1], d["code"]) for d in problems(r)] == [("reason", "string_too_long")]


async def test_rule_refusals_have_their_own_codes(client) -> None:
    _, me = await citizen(client)
    bad_phone = {"phone": "+1 555 0101", "name": "A", "password": "rahasia-1"}
    refusals = [
        (await client.post("/api/v1/citizens", json=bad_phone), 400, "bad_phone"),
        (
            await client.post("/api/v1/reports", headers=me, json=report_body(category="ufo")),
            400,
            "unknown_category",
        ),
        (
            await client.post(
                "/api/v1/reports", headers={**me, "Content-Type": "text/plain"}, content=b"hello"
            ),
            400,
            "unsupported_media_type",
        ),
        (await client.post("/api/v1/sos/999999/end", headers=me), 404, "sos_not_found"),
    ]
    for r, status, code in refusals:
        assert (r.status_code, r.json()["error"]["code"]) == (status, code), r.text
