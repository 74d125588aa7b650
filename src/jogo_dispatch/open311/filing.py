"""Filing an Open311 service request: the form checked against the service definition, the citizen account
it is filed as, the reports rate limits, and the report itself through dispatch's intake.

* Who filed it: each request becomes a citizen account of its own kind, never an app login. With
  ``account_id``, ``phone`` or ``email`` (first found) the account is per API key and that identity
  (username ``o311-<key id>-<hash>``), so strikes, blocking and reward points follow the person; without any
  it is the API key's anonymous account (``o311-<key id>``). Nobody can log in to these accounts, and an
  API key can neither file as an app user nor as another key's users.
* Limits: the reports rate limits per identity and per ``device_id``; anonymous requests share a limit per
  API key (``open311_limit_per_key``).
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.abuse import service as abuse
from jogo_dispatch.accounts import repository as accounts_repo
from jogo_dispatch.accounts import service as accounts
from jogo_dispatch.accounts.models import User
from jogo_dispatch.accounts.phones import normalise_phone
from jogo_dispatch.agencies import routing
from jogo_dispatch.dispatch import intake
from jogo_dispatch.errors import AppError, InvalidInput, NotFound
from jogo_dispatch.open311 import catalogue, keys
from jogo_dispatch.open311.models import ApiKey, Open311Request
from jogo_dispatch.open311.schemas import FiledRequestOut
from jogo_dispatch.platform import ratelimit
from jogo_dispatch.platform.security import Principal
from jogo_dispatch.reports.schemas import ReportIn
from jogo_dispatch.runtime import Runtime

MAX_DESCRIPTION = 2000  # what a report holds; Open311 allows 4000, the rest is cut with a notice
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,189}\.[^@\s]{2,}$")
_ATTRIBUTE = re.compile(r"^attribute\[([A-Za-z0-9_.-]{1,64})\](\[\])?$")
# A decimal number in ASCII: float() also reads "١٢", "1_0", "nan" and "infinity".
_DECIMAL = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")


def _clean(form: dict[str, str], name: str, max_len: int) -> str | None:
    value = (form.get(name) or "").strip()
    if not value:
        return None
    if len(value) > max_len:
        raise InvalidInput(f"{name} is longer than {max_len} characters", code="bad_field")
    return value


def _coordinate(form: dict[str, str], name: str, bound: float) -> float | None:
    raw = (form.get(name) or "").strip()
    if not raw:
        return None
    if not _DECIMAL.fullmatch(raw):
        raise InvalidInput(f"{name} must be a number", code="bad_field")
    value = float(raw)
    if not -bound <= value <= bound:
        raise InvalidInput(f"{name} must be within ±{bound:g}", code="bad_field")
    return value


def attributes_of(multi: dict[str, list[str]], category: routing.Category) -> dict[str, Any]:
    """``attribute[code]=value`` (``attribute[code][]=v`` for multivaluelist), checked against the service
    definition: known codes, listed values, required ones present."""
    sent: dict[str, Any] = {}
    for name, values in multi.items():
        m = _ATTRIBUTE.match(name)
        if m:
            sent[m.group(1)] = values if m.group(2) else values[-1]
    defined = {a["code"]: a for a in category.attributes}
    unknown = sorted(set(sent) - set(defined))
    if unknown:
        raise InvalidInput(
            f"unknown attribute(s) for {category.code}: {', '.join(unknown)}", code="bad_attribute"
        )
    for code, a in defined.items():
        value = sent.get(code)
        if value in (None, "", []):
            if a.get("required"):
                raise InvalidInput(f"attribute[{code}] is required", code="bad_attribute")
            sent.pop(code, None)
            continue
        keys = {str(v["key"]) for v in a.get("values", ())}
        chosen = value if isinstance(value, list) else [value]
        if keys and any(v not in keys for v in chosen):
            raise InvalidInput(
                f"attribute[{code}] must be one of {', '.join(sorted(keys))}", code="bad_attribute"
            )
    return sent


def _identity(fields: dict[str, str | None]) -> str | None:
    if fields["account_id"]:
        return f"account:{fields['account_id']}"
    if fields["phone"]:
        return f"phone:{fields['phone']}"
    if fields["email"]:
        return f"email:{fields['email'].lower()}"
    return None


async def _account(
    session: AsyncSession, rt: Runtime, key: ApiKey, identity: str | None, full_name: str | None
) -> User:
    """The citizen account the request is filed as (created on first use)."""
    if identity is None:
        username, full_name = keys.account_username(key.id), f"Open311: {key.label}"
    else:
        username = keys.account_username(key.id, identity)
    user = await accounts_repo.user_by_username(session, username)
    if user is None:
        user = await accounts.create_user(
            session,
            rt.passwords,
            username=username,
            password=secrets.token_urlsafe(32),
            role="citizen",
            full_name=full_name,
        )
    elif full_name and not user.full_name:
        user.full_name = full_name
    return user


async def _service(session: AsyncSession, code: str | None) -> routing.Category:
    if not code:
        raise InvalidInput("service_code is required", code="service_code_required")
    found = await catalogue.service_by_code(session, code)
    if found is None:
        raise NotFound(f"service_code {code!r} not found", code="service_not_found")
    return found


async def file_request(
    session: AsyncSession,
    rt: Runtime,
    form: dict[str, str],
    multi: dict[str, list[str]],
    *,
    user_agent: str | None,
    client_ip: str | None,
) -> list[FiledRequestOut]:
    """``POST requests.json``: a citizen report through the reports service."""
    key = await keys.authenticate(session, form.get("api_key"))
    jurisdiction = _clean(form, "jurisdiction_id", 32)
    catalogue.check_jurisdiction(jurisdiction)
    category = await _service(session, _clean(form, "service_code", 64))
    lat, lon = _coordinate(form, "lat", 90), _coordinate(form, "long", 180)
    if lat is None or lon is None:
        raise InvalidInput(
            "lat and long are required (an address_string alone cannot be located)", code="location_required"
        )
    fields: dict[str, str | None] = {
        name: _clean(form, name, n)
        for name, n in (
            ("address_string", 500),
            ("email", 254),
            ("first_name", 100),
            ("last_name", 100),
            ("phone", 32),
            ("device_id", 128),
            ("account_id", 100),
            ("media_url", 1000),
        )
    }
    description = _clean(form, "description", 4000)
    if fields["email"] and not _EMAIL.match(fields["email"] or ""):
        raise InvalidInput("email is not an e-mail address", code="bad_field")
    if fields["phone"]:
        try:
            fields["phone"] = normalise_phone(fields["phone"] or "")
        except ValueError as exc:
            raise InvalidInput(f"phone: {exc}", code="bad_field") from None
    if fields["media_url"] and not (fields["media_url"] or "").startswith(("http://", "https://")):
        raise InvalidInput("media_url must be an http(s) URL", code="bad_field")
    attributes = attributes_of(multi, category)
    notice = (
        "Laporan diterima dan menunggu verifikasi. / Received; awaiting verification by the command centre."
    )
    text = description or category.name_id or category.code
    if len(text) > MAX_DESCRIPTION:
        text = text[: MAX_DESCRIPTION - 1] + "…"
        notice += f" The description was cut to {MAX_DESCRIPTION} characters."
    if attributes.get("injured") == "yes":  # dispatchers read the description, not the attributes
        text = text[: MAX_DESCRIPTION - 25] + " [korban luka / injured]"
    try:
        data = ReportIn(
            category=category.code,
            description=text,
            lat=lat,
            lon=lon,
            reporter_lat=lat,
            reporter_lon=lon,
            address=fields["address_string"],
        )
    except ValidationError as exc:
        raise InvalidInput("; ".join(e["msg"] for e in exc.errors()), code="bad_field") from None

    identity = _identity(fields)
    full_name = " ".join(p for p in (fields["first_name"], fields["last_name"]) if p) or None
    user = await _account(session, rt, key, identity, full_name)
    await abuse.ensure_not_blocked(session, user.id)
    device = ratelimit.device_key(fields["device_id"], None, None)
    per_key = (
        []
        if identity
        else [
            ratelimit.Limit(
                f"report:open311-key:{key.id}",
                rt.settings.open311_limit_per_key,
                rt.settings.report_limit_window_s,
                "api key",
            )
        ]
    )
    taken = await ratelimit.check(
        rt.limiter, rt.settings, "report", str(user.id) if identity else None, device, per_key
    )
    try:
        report, _ = await intake.create_report(
            session,
            rt.bus,
            rt.settings,
            Principal(user.id, "citizen"),
            data,
            photo=None,
            device_id=fields["device_id"],
            user_agent=user_agent,
            client_ip=client_ip,
        )
    except AppError:
        await rt.limiter.refund(taken)  # a refused report does not use up the quota
        raise
    session.add(
        Open311Request(
            report_id=report.id,
            api_key_id=key.id,
            jurisdiction_id=jurisdiction,
            account_id=fields["account_id"],
            email=fields["email"],
            first_name=fields["first_name"],
            last_name=fields["last_name"],
            phone=fields["phone"],
            device_id=fields["device_id"],
            media_url=fields["media_url"],
            attributes=attributes,
        )
    )
    await session.flush()
    return [
        FiledRequestOut(
            service_request_id=str(report.id), service_notice=notice, account_id=fields["account_id"]
        )
    ]
