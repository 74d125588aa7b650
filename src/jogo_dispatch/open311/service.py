"""Open311 GeoReport v2 service requests: reports filed by Open311 clients, and every report read back as a
service request. The service catalogue (``services.json``) is the agencies domain's.

* ``service_request_id`` is the report id (as a string); ``service_code`` the category code.
* Who filed it: each request becomes a citizen account of its own kind, never an app login. With
  ``account_id``, ``phone`` or ``email`` (first found) the account is per API key and that identity
  (username ``o311-<key id>-<hash>``), so strikes, blocking and reward points follow the person; without any
  it is the API key's anonymous account (``o311-<key id>``). Nobody can log in to these accounts, and an
  API key can neither file as an app user nor as another key's users.
* Status: ``open`` while the report waits or its incident is open; ``closed`` when the report was rejected
  or its incident resolved or cancelled. ``agency_responsible``: the agencies the incident was forwarded to.
* Privacy: a request filed through Open311 is public as filed. For reports filed in the app, the listing
  shows the category, status and position, but not the citizen's text, address or photo.
* Limits: the reports rate limits per identity and per ``device_id``; anonymous requests share a limit per
  API key (``open311_limit_per_key``).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.abuse import service as abuse
from jogo_dispatch.accounts import service as accounts
from jogo_dispatch.accounts.models import User
from jogo_dispatch.accounts.phones import normalise_phone
from jogo_dispatch.agencies import repository as agencies_repo
from jogo_dispatch.agencies import routing
from jogo_dispatch.agencies.regions import packs
from jogo_dispatch.errors import Forbidden, InvalidInput, NotFound
from jogo_dispatch.open311 import repository as repo
from jogo_dispatch.open311.models import ApiKey, Open311Request
from jogo_dispatch.platform import ratelimit
from jogo_dispatch.platform.db import utcnow
from jogo_dispatch.platform.security import Principal
from jogo_dispatch.reports import service as reports
from jogo_dispatch.reports.schemas import ReportIn
from jogo_dispatch.runtime import Runtime

KEY_PREFIX = "o311_"
MAX_DESCRIPTION = 2000  # what a report holds; Open311 allows 4000, the rest is cut with a notice
MAX_SPAN = timedelta(days=90)
MAX_RESULTS = 1000
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,189}\.[^@\s]{2,}$")
_ATTRIBUTE = re.compile(r"^attribute\[([A-Za-z0-9_.-]{1,64})\](\[\])?$")
_ANONYMOUS = re.compile(r"^o311-\d+$")


def is_anonymous_account(username: str) -> bool:
    """An API key's account for requests that name nobody (it earns no reward points)."""
    return bool(_ANONYMOUS.match(username))


# -- API keys ------------------------------------------------------------------------------------------------


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


async def create_api_key(session: AsyncSession, label: str) -> tuple[ApiKey, str]:
    """A new key (returned once: only its hash is stored)."""
    label = label.strip()
    if not 1 <= len(label) <= 100:
        raise InvalidInput("the label needs 1 to 100 characters", code="bad_label")
    key = KEY_PREFIX + secrets.token_urlsafe(24)
    row = ApiKey(key_hash=key_hash(key), prefix=key[:12], label=label)
    session.add(row)
    await session.flush()
    return row, key


async def api_keys(session: AsyncSession) -> list[ApiKey]:
    return await repo.api_keys(session)


async def revoke_api_key(session: AsyncSession, key_id: int) -> ApiKey:
    row = await session.get(ApiKey, key_id)
    if row is None:
        raise NotFound(f"API key {key_id} not found", code="api_key_not_found")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        await session.flush()
    return row


async def authenticate(session: AsyncSession, key: str | None) -> ApiKey:
    if not key:
        raise Forbidden("api_key is required", code="api_key_required")
    row = await repo.api_key_by_hash(session, key_hash(key))
    if row is None or row.revoked_at is not None:
        raise Forbidden("invalid api_key", code="bad_api_key")
    row.last_used_at = utcnow()
    return row


# -- filing a request ----------------------------------------------------------------------------------------


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
    try:
        value = float(raw)
    except ValueError:
        raise InvalidInput(f"{name} must be a number", code="bad_field") from None
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
        username, full_name = f"o311-{key.id}", f"Open311: {key.label}"
    else:
        username = f"o311-{key.id}-{hashlib.sha256(identity.encode()).hexdigest()[:24]}"
    user = await repo.user_by_username(session, username)
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
    found = next((c for c in await agencies_repo.catalogue(session) if c.code == code), None)
    if found is None:
        raise NotFound(f"service_code {code!r} not found", code="service_not_found")
    return found


def check_jurisdiction(jurisdiction_id: str | None) -> None:
    if jurisdiction_id and jurisdiction_id not in packs.available():
        raise NotFound(f"jurisdiction_id {jurisdiction_id!r} not found", code="jurisdiction_not_found")


async def file_request(
    session: AsyncSession,
    rt: Runtime,
    form: dict[str, str],
    multi: dict[str, list[str]],
    *,
    user_agent: str | None,
    client_ip: str | None,
) -> list[dict[str, Any]]:
    """``POST requests.json``: a citizen report through the reports service."""
    key = await authenticate(session, form.get("api_key"))
    jurisdiction = _clean(form, "jurisdiction_id", 32)
    check_jurisdiction(jurisdiction)
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
    await ratelimit.check(
        rt.limiter, rt.settings, "report", str(user.id) if identity else None, device, per_key
    )

    report, _ = await reports.create_report(
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
        {"service_request_id": str(report.id), "service_notice": notice, "account_id": fields["account_id"]}
    ]


# -- reading requests ----------------------------------------------------------------------------------------


def w3(t: datetime) -> str:
    return t.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def status_of(report_status: str, incident_status: str | None) -> tuple[str, str]:
    """(open|closed, status_notes)."""
    if report_status == "rejected":
        return "closed", "Bukan kejadian untuk pusat komando. / Not an incident for the command centre."
    if report_status == "false":
        return "closed", "Ditutup. / Closed."
    if incident_status == "resolved":
        return "closed", "Selesai ditangani. / Resolved."
    if incident_status == "cancelled":
        return "closed", (
            "Dibatalkan atau digabung dengan laporan lain. / Cancelled or merged with another report."
        )
    if report_status == "received":
        return "open", "Menunggu verifikasi. / Awaiting verification."
    state = incident_status or "open"
    return "open", f"Terverifikasi; kejadian {state}. / Verified; incident {state}."


def request_dict(
    row: Any, lang: str, agencies_of: dict[int, list[str]], default_agency: str
) -> dict[str, Any]:
    r, o311 = row.Report, row.Open311Request
    status, notes = status_of(r.status, row.incident_status)
    name = (row.name_en if lang == "en" else row.name_id) or r.category
    public = o311 is not None
    updated = max(t for t in (r.created_at, r.reviewed_at, row.incident_updated_at) if t is not None)
    return {
        "service_request_id": str(r.id),
        "status": status,
        "status_notes": notes,
        "service_name": name,
        "service_code": r.category,
        "description": r.description if public else name,
        "agency_responsible": ", ".join(agencies_of.get(r.incident_id or 0, [])) or default_agency,
        "service_notice": None,
        "requested_datetime": w3(r.created_at),
        "updated_datetime": w3(updated),
        "expected_datetime": None,
        "address": r.address if public else None,
        "address_id": None,
        "zipcode": None,
        "lat": r.lat,
        "long": r.lon,
        "media_url": o311.media_url if public else None,
    }


def _when(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        t = datetime.fromisoformat(value.strip().replace(" ", "+"))
    except ValueError:
        raise InvalidInput(
            f"{name} must be a w3 date-time, e.g. 2026-01-01T00:00:00Z", code="bad_date"
        ) from None
    if t.tzinfo is None:
        raise InvalidInput(f"{name} needs a time zone (Z or +07:00)", code="bad_date")
    return t


def _ids(raw: str) -> list[int]:
    out = []
    for part in raw.split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isdigit() or len(part) > 18:
            raise InvalidInput(f"service_request_id {part!r} is not a request id", code="bad_id")
        out.append(int(part))
    if not out or len(out) > MAX_RESULTS:
        raise InvalidInput("service_request_id: 1 to 1000 comma-separated ids", code="bad_id")
    return out


async def _views(session: AsyncSession, rt: Runtime, rows: list[Any], lang: str) -> list[dict[str, Any]]:
    incidents = {r.Report.incident_id for r in rows if r.Report.incident_id}
    names = await repo.forwarded_agencies(session, incidents)
    return [request_dict(r, lang, names, rt.settings.open311_agency_name) for r in rows]


async def list_requests(session: AsyncSession, rt: Runtime, params: dict[str, str]) -> list[dict[str, Any]]:
    """``GET requests.json``: by ``service_request_id`` (the other filters are then ignored), else by
    ``service_code``, ``status`` and ``start_date``/``end_date`` (at most 90 days; default the last 90 days),
    newest first, at most 1000."""
    check_jurisdiction(params.get("jurisdiction_id"))
    lang = "en" if params.get("lang") == "en" else "id"
    if params.get("service_request_id"):
        rows = await repo.requests_by_ids(session, _ids(params["service_request_id"]))
        return await _views(session, rt, rows, lang)
    start, end = _when(params.get("start_date"), "start_date"), _when(params.get("end_date"), "end_date")
    if start and end and start > end:
        raise InvalidInput("start_date is after end_date", code="bad_date")
    if start and end and end - start > MAX_SPAN:
        raise InvalidInput("start_date to end_date spans more than 90 days", code="bad_date")
    if end is None:
        end = start + MAX_SPAN if start else utcnow()
    start = start or end - MAX_SPAN
    statuses = {s.strip() for s in (params.get("status") or "").split(",") if s.strip()}
    if statuses - {"open", "closed"}:
        raise InvalidInput("status must be open, closed or both (comma-separated)", code="bad_status")
    codes = [c.strip() for c in (params.get("service_code") or "").split(",") if c.strip()]
    closed = None if len(statuses) != 1 else statuses == {"closed"}
    rows = await repo.requests(session, start, end, codes or None, closed, MAX_RESULTS)
    return await _views(session, rt, rows, lang)


async def get_request(
    session: AsyncSession, rt: Runtime, request_id: str, params: dict[str, str]
) -> list[dict[str, Any]]:
    check_jurisdiction(params.get("jurisdiction_id"))
    if not request_id.isdigit() or len(request_id) > 18:
        raise NotFound(f"service_request_id {request_id!r} not found", code="request_not_found")
    rows = await repo.requests_by_ids(session, [int(request_id)])
    if not rows:
        raise NotFound(f"service_request_id {request_id} not found", code="request_not_found")
    return await _views(session, rt, rows, "en" if params.get("lang") == "en" else "id")
