"""Filing an Open311 service request: the form checked against the service definition, the citizen account
it is filed as, the reports rate limits, and the report itself through dispatch's intake.

* Who filed it: each request becomes a citizen account of its own kind, never an app login. With
  ``account_id``, ``phone`` or ``email`` (first found) the account is per API key and that identity
  (username ``o311-<key id>-<hash>``), so strikes, blocking and reward points follow the person; without any
  it is the API key's anonymous account (``o311-<key id>``). Nobody can log in to these accounts, and an
  API key can neither file as an app user nor as another key's users.
* Limits: the reports rate limits per identity and per ``device_id``; anonymous requests share a limit per
  API key (``open311_limit_per_key``). A request refused after it was counted gives the attempt back.
* A ``phone`` that is not a mobile number of ``JOGO_PHONE_REGIONS`` (a foreign number, a typo) does not
  refuse the report: it is kept as sent (``attributes.phone_as_sent``) and names nobody.
* Attributes: ``attribute[code]`` of the service definition are checked (listed values, required ones);
  others (FixMyStreet sends ``easting``, ``fixmystreet_id``, ``report_url``, ``title``…) are kept as sent.
* No lat/long but an ``address_string`` or ``address_id``: accepted, placed at the region's centre and
  flagged ``location_pending`` (and in the description) for a dispatcher to place on the map; such a report
  is never linked at once to an incident nearby (its place is not known).
* Retries: the same client id in ``attribute[fixmystreet_id]`` (or ``client_id``, ``client_request_id``,
  ``external_id``) with the same API key, or, without a client id, the same API key, service, person, text
  and place again within ``RETRY_WINDOW``, is the same request: its ``service_request_id`` comes back (200)
  and nothing is filed twice.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta
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
from jogo_dispatch.open311 import repository as repo
from jogo_dispatch.open311.models import ApiKey, Open311Request
from jogo_dispatch.open311.schemas import FiledRequestOut
from jogo_dispatch.platform import ratelimit
from jogo_dispatch.platform.db import utcnow
from jogo_dispatch.platform.security import Principal
from jogo_dispatch.reports import forms, photos
from jogo_dispatch.reports import service as reports
from jogo_dispatch.reports.models import Report
from jogo_dispatch.reports.schemas import ReportIn
from jogo_dispatch.runtime import Runtime

MAX_DESCRIPTION = 2000  # what a report holds; Open311 allows 4000, the rest is cut with a notice
MAX_ATTRIBUTE = 1000  # characters of one attribute value
# FixMyStreet resends a report it could not send 5 minutes later, then every 30 minutes.
RETRY_WINDOW = timedelta(hours=24)
CLIENT_ID_ATTRIBUTES = ("fixmystreet_id", "client_id", "client_request_id", "external_id")
PENDING_MARK = " [lokasi belum di peta, tempatkan dari alamat / address only: place it on the map]"
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
    """``attribute[code]=value`` (``attribute[code][]=v`` for multivaluelist): those of the service
    definition checked (listed values, required ones present), any other kept as sent."""
    sent: dict[str, Any] = {}
    for name, values in multi.items():
        m = _ATTRIBUTE.match(name)
        if m:
            if any(len(v) > MAX_ATTRIBUTE for v in values):
                raise InvalidInput(f"{name} is longer than {MAX_ATTRIBUTE} characters", code="bad_attribute")
            sent[m.group(1)] = values if m.group(2) else values[-1]
    defined = {a["code"]: a for a in category.attributes}
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


def _fingerprint(key_id: int, service: str, identity: str | None, parts: tuple[object, ...]) -> str:
    raw = "\x1f".join(str(p) for p in (key_id, service, identity or "", *parts))
    return hashlib.sha256(raw.encode()).hexdigest()


def _client_id(attributes: dict[str, Any]) -> str | None:
    for name in CLIENT_ID_ATTRIBUTES:
        value = attributes.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()[:200]
    return None


def _media_urls(multi: dict[str, list[str]]) -> list[str]:
    """``media_url`` (FixMyStreet sends it once per photo when it has several)."""
    urls = [u.strip() for u in multi.get("media_url", []) if u.strip()]
    for url in urls:
        if len(url) > 1000:
            raise InvalidInput("media_url is longer than 1000 characters", code="bad_field")
        if not url.startswith(("http://", "https://")):
            raise InvalidInput("media_url must be an http(s) URL", code="bad_field")
    return urls


async def file_request(
    session: AsyncSession,
    rt: Runtime,
    form: dict[str, str],
    multi: dict[str, list[str]],
    *,
    photo: bytes | None = None,
    user_agent: str | None,
    client_ip: str | None,
) -> tuple[list[FiledRequestOut], bool]:
    """``POST requests.json``: a citizen report through the reports service. Returns the answer and whether
    it filed a new request (False: a retry of one filed before, whose id comes back). An uploaded
    ``photo`` (JPEG/PNG, checked as the app's are) becomes the report's photo; one that is not a photo is
    left out, the request still filed (a client would resend it forever) and ``attributes.photo_refused``
    says why."""
    key = await keys.authenticate(session, form.get("api_key"))
    jurisdiction = _clean(form, "jurisdiction_id", 32)
    catalogue.check_jurisdiction(jurisdiction)
    category = await _service(session, _clean(form, "service_code", 64))
    lat, lon = _coordinate(form, "lat", 90), _coordinate(form, "long", 180)
    fields: dict[str, str | None] = {
        name: _clean(form, name, n)
        for name, n in (
            ("address_string", 500),
            ("address_id", 100),
            ("email", 254),
            ("first_name", 100),
            ("last_name", 100),
            ("phone", 32),
            ("device_id", 128),
            ("deviceid", 128),  # FixMyStreet's spelling
            ("account_id", 100),
        )
    }
    fields["device_id"] = fields["device_id"] or fields.pop("deviceid")
    pending = lat is None and lon is None and bool(fields["address_string"] or fields["address_id"])
    if (lat is None or lon is None) and not pending:
        raise InvalidInput(
            "lat and long are required, or an address_string or address_id to be placed by a dispatcher",
            code="location_required",
        )
    description = _clean(form, "description", 4000)
    if fields["email"] and not _EMAIL.match(fields["email"] or ""):
        raise InvalidInput("email is not an e-mail address", code="bad_field")
    phone_as_sent = None
    if fields["phone"]:
        try:
            fields["phone"] = normalise_phone(fields["phone"] or "")
        except ValueError:  # a foreign number or a typo: kept as sent, never the person's identity
            phone_as_sent, fields["phone"] = fields["phone"], None
    media = _media_urls(multi)
    attributes = attributes_of(multi, category)
    if phone_as_sent:
        attributes["phone_as_sent"] = phone_as_sent
    if len(media) > 1:
        attributes["media_url"] = media
    checked = None
    if photo:
        try:
            checked = await forms.checked_photo(rt.settings, photo)
        except InvalidInput as exc:
            attributes["photo_refused"] = exc.message
    notice = (
        "Laporan diterima dan menunggu verifikasi. / Received; awaiting verification by the command centre."
    )
    text = description or category.name_id or category.code
    identity = _identity(fields)
    fingerprint = _fingerprint(
        key.id,
        category.code,
        identity,
        (text, lat, lon, fields["address_string"], fields["address_id"]),
    )
    client_id = _client_id(attributes)
    await repo.lock_filing(session, client_id or fingerprint)
    earlier = await repo.retried_request(session, key.id, fingerprint, client_id, utcnow() - RETRY_WINDOW)
    if earlier is not None:
        return [
            FiledRequestOut(
                service_request_id=str(earlier.report_id),
                service_notice="Sudah diterima sebelumnya. / Already received: this is the same request.",
                account_id=earlier.account_id,
            )
        ], False

    if len(text) > MAX_DESCRIPTION:
        text = text[: MAX_DESCRIPTION - 1] + "…"
        notice += f" The description was cut to {MAX_DESCRIPTION} characters."
    if attributes.get("injured") == "yes":  # dispatchers read the description, not the attributes
        text = text[: MAX_DESCRIPTION - 25] + " [korban luka / injured]"
    if pending:  # and the map shows the description: the dispatcher sees why it stands at the centre
        text = text[: MAX_DESCRIPTION - len(PENDING_MARK)] + PENDING_MARK
        lat, lon = catalogue.centre_of(jurisdiction or rt.settings.region)
        notice += " Lokasi akan ditempatkan petugas. / A dispatcher will place it on the map."
    assert lat is not None and lon is not None
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
        report = await _file(
            session, rt, Principal(user.id, "citizen"), data, pending, fields, checked, user_agent, client_ip
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
            media_url=media[0] if media else None,
            attributes=attributes,
            address_id=fields["address_id"],
            location_pending=pending,
            fingerprint=fingerprint,
            client_request_id=client_id,
        )
    )
    await session.flush()
    return [
        FiledRequestOut(
            service_request_id=str(report.id), service_notice=notice, account_id=fields["account_id"]
        )
    ], True


async def _file(
    session: AsyncSession,
    rt: Runtime,
    citizen: Principal,
    data: ReportIn,
    pending: bool,
    fields: dict[str, str | None],
    photo: photos.Photo | None,
    user_agent: str | None,
    client_ip: str | None,
) -> Report:
    """Through dispatch's intake; a report still to be placed is filed without looking for an incident
    nearby (it stands at the region's centre, not where it happened)."""
    if not pending:
        report, _ = await intake.create_report(
            session,
            rt.bus,
            rt.settings,
            citizen,
            data,
            photo=photo,
            device_id=fields["device_id"],
            user_agent=user_agent,
            client_ip=client_ip,
        )
        return report
    if photo is not None:
        await reports.store_photo(rt.settings, photo)
    report = await reports.new_report(
        session,
        citizen,
        data,
        photo=photo,
        device_id=fields["device_id"],
        user_agent=user_agent,
        client_ip=client_ip,
        now=utcnow(),
    )
    reports.announce_report(session, rt.bus, report)
    return report
