"""The officers as the admin console keeps them: the roster (search, pages), edits, deactivation, the CSV
import (checked by ``tracking.roster``, the same checks as ``jogo-dispatch import-officers``) and export, and
the set-up link / QR code of a phone. Every change is audited (entity ``officer``).

* ``GET /api/v1/officers/roster?q=&active=&limit=&offset=``: officers with login state and phone count;
* ``PATCH /api/v1/officers/{id}``: badge (= the login's username), name, unit type, sector;
* ``POST /api/v1/officers/{id}/deactivate`` / ``activate``: a deactivated officer is off duty, cannot log
  in, its tokens and phones are revoked (phones are registered again after activation);
* ``POST /api/v1/officers/import?dry_run=true``: the row-by-row report; ``dry_run=false`` imports in one
  transaction, answering ``application/x-ndjson``: ``progress`` lines, then ``done`` (with the generated
  passwords, shown this once) or ``error`` (nothing imported);
* ``GET /api/v1/officers/export.csv``: the roster in the import's columns;
* ``POST /api/v1/officers/{id}/devices/{device_id}/setup``: Traccar Client and OwnTracks links and QR codes.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.accounts.models import User
from jogo_dispatch.deps import Admin, RuntimeDep, SessionDep
from jogo_dispatch.errors import AppError, Conflict, InvalidInput, NotFound
from jogo_dispatch.platform import audit
from jogo_dispatch.platform.db import Id, after_commit, session_scope
from jogo_dispatch.platform.events import CredentialsChanged, EventBus
from jogo_dispatch.platform.idempotency import IdempotentRoute
from jogo_dispatch.platform.security import device_token_hash
from jogo_dispatch.runtime import Runtime
from jogo_dispatch.tracking import phone_setup, roster, service
from jogo_dispatch.tracking import repository as repo
from jogo_dispatch.tracking.models import Device, Officer

# -- schemas -----------------------------------------------------------------------------------------------


class RosterOfficerOut(BaseModel):
    id: int
    badge: str
    name: str
    unit_type: str
    sector: str | None
    status: str
    active: bool = Field(description="the officer's login is enabled")
    online: bool
    devices: int = Field(description="phones registered and not revoked")
    created_at: datetime


class RosterPageOut(BaseModel):
    total: int
    items: list[RosterOfficerOut]


class OfficerPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    badge: str | None = Field(None, min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_.@+-]+$")
    name: str | None = Field(None, min_length=1, max_length=200)
    unit_type: Literal["car", "motorbike", "foot"] | None = None
    sector: str | None = Field(None, max_length=100, description="empty or null: none")


class ReasonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(None, max_length=500)


class ImportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    csv: str = Field(
        min_length=1, description="the CSV text: badge,name,unit_type[,sector,device_id,password,active]"
    )
    fixes: dict[int, dict[str, str]] = Field(
        default_factory=dict,
        description='cells typed in for a row, by row number: {"5": {"unit_type": "car"}}',
    )
    skip: list[int] = Field(default_factory=list, max_length=20_000, description="row numbers left out")
    skip_invalid: bool = Field(False, description="import the good rows even if some are bad")


class BadRow(BaseModel):
    row: int = Field(description="as a spreadsheet numbers it (the header is row 1)")
    values: dict[str, str] = Field(description="the row's cells (never its password)")
    columns: list[str] = Field(description="the columns the problems are about")
    problems: list[str]


class Credential(BaseModel):
    badge: str
    password: str


class ImportReport(BaseModel):
    total: int = Field(description="data rows read")
    good: int
    bad: int
    skipped: list[int]
    bad_rows: list[BadRow]
    imported: int = 0
    credentials: list[Credential] = Field(
        default_factory=list, description="generated passwords of the imported officers (this answer only)"
    )


class SetupIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str | None = Field(
        None, max_length=200, description="the device token, as POST .../devices answered (for OwnTracks)"
    )


class AppSetupOut(BaseModel):
    link: str
    qr_svg: str = Field(description="the QR code of the link, as a data:image/svg+xml URI")


class DeviceSetupOut(BaseModel):
    server_url: str
    reachable: bool = Field(description="false: the address is this machine's own; set JOGO_PUBLIC_URL")
    identifier: str
    badge: str
    traccar: AppSetupOut
    owntracks: AppSetupOut | None = Field(description="needs the device token; null without it")


# -- service -----------------------------------------------------------------------------------------------


def _like(q: str) -> str:
    return "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


async def roster_page(
    session: AsyncSession, q: str | None, active: bool | None, limit: int, offset: int
) -> RosterPageOut:
    phones = (
        select(func.count())
        .where(Device.officer_id == Officer.id, Device.revoked_at.is_(None))
        .correlate(Officer)
        .scalar_subquery()
    )
    is_active = func.coalesce(User.is_active, False)
    query = select(Officer, is_active.label("active"), phones.label("devices")).outerjoin(
        User, User.id == Officer.user_id
    )
    if q:
        query = query.where(
            Officer.badge.ilike(_like(q), escape="\\") | Officer.name.ilike(_like(q), escape="\\")
        )
    if active is not None:
        query = query.where(is_active.is_(active))
    total = int(await session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    rows = await session.execute(query.order_by(Officer.badge).limit(limit).offset(offset))
    return RosterPageOut(
        total=total,
        items=[
            RosterOfficerOut(
                id=o.id,
                badge=o.badge,
                name=o.name,
                unit_type=o.unit_type,
                sector=o.sector,
                status=o.status,
                active=bool(act),
                online=o.online,
                devices=int(n),
                created_at=o.created_at,
            )
            for o, act, n in rows
        ],
    )


async def _officer(session: AsyncSession, officer_id: int) -> Officer:
    officer = await session.scalar(select(Officer).where(Officer.id == officer_id).with_for_update())
    if officer is None:
        raise NotFound(f"officer {officer_id} not found", code="officer_not_found")
    return officer


async def _login(session: AsyncSession, officer: Officer) -> User | None:
    return await session.get(User, officer.user_id) if officer.user_id is not None else None


async def update_officer(
    session: AsyncSession, officer_id: int, data: OfficerPatch, actor_id: int
) -> Officer:
    officer = await _officer(session, officer_id)
    wanted = data.model_dump(exclude_unset=True)
    if "sector" in wanted:
        wanted["sector"] = (wanted["sector"] or "").strip() or None
    for field in ("badge", "name", "unit_type"):
        if field in wanted and wanted[field] is None:
            raise InvalidInput(f"{field} cannot be emptied", code="field_required", details={"field": field})
    changes = {k: [getattr(officer, k), v] for k, v in wanted.items() if getattr(officer, k) != v}
    if not changes:
        return officer
    if "badge" in changes:
        if await repo.officer_by_badge(session, wanted["badge"]) is not None:
            raise Conflict(f"officer with badge {wanted['badge']!r} exists", code="officer_exists")
        user = await _login(session, officer)
        if user is not None:
            taken = await session.scalar(select(User.id).where(User.username == wanted["badge"]))
            if taken is not None:
                raise Conflict(f"login {wanted['badge']!r} exists", code="user_exists")
            user.username = wanted["badge"]  # officers log in with their badge
    for field, (_, after) in changes.items():
        setattr(officer, field, after)
    await session.flush()
    audit.record(session, "officer", officer.id, "edited", actor_id=actor_id, data={"changes": changes})
    return officer


async def deactivate(
    session: AsyncSession, bus: EventBus, officer_id: int, actor_id: int, reason: str | None
) -> Officer:
    """Off duty, the login disabled and its tokens revoked, every phone revoked. An officer on an
    incident (busy) is freed from it first: 409 ``officer_busy``."""
    officer = await _officer(session, officer_id)
    user = await _login(session, officer)
    if user is not None and not user.is_active:
        return officer
    if officer.status == "busy":
        raise Conflict(
            f"officer {officer.badge} is on an incident: free them from it first", code="officer_busy"
        )
    await service.set_status(session, bus, officer.id, "off_duty")
    revoked = []
    for device in await repo.devices_of(session, officer.id):
        if device.revoked_at is None:
            await service.revoke_device(session, officer.id, device.id, actor_id)
            revoked.append(device.id)
    if user is not None:
        user.is_active = False
        user.token_version += 1
    await session.flush()
    audit.record(
        session,
        "officer",
        officer.id,
        "deactivated",
        from_state="active",
        to_state="inactive",
        actor_id=actor_id,
        reason=reason,
        data={"devices_revoked": revoked},
    )
    user_id = user.id if user is not None else None
    events = [CredentialsChanged(device_id=d) for d in revoked] + [CredentialsChanged(user_id=user_id)]

    def announce() -> None:
        for event in events:
            bus.publish(event)

    after_commit(session, announce)
    return officer


async def activate(session: AsyncSession, officer_id: int, actor_id: int, reason: str | None) -> Officer:
    """The login works again; the officer is off duty until they set their status, and phones are
    registered anew (deactivation revoked them)."""
    officer = await _officer(session, officer_id)
    user = await _login(session, officer)
    if user is None:
        raise Conflict(f"officer {officer.badge} has no login", code="no_login")
    if user.is_active:
        return officer
    user.is_active = True
    await session.flush()
    audit.record(
        session,
        "officer",
        officer.id,
        "activated",
        from_state="inactive",
        to_state="active",
        actor_id=actor_id,
        reason=reason,
    )
    return officer


async def is_active(session: AsyncSession, officer: Officer) -> bool:
    user = await _login(session, officer)
    return bool(user and user.is_active)


async def roster_csv(session: AsyncSession) -> str:
    """Every officer in the import's columns (its first active phone as device_id): importing the file
    into an empty system makes the same roster, with new passwords."""
    first_phone = (
        select(Device.identifier)
        .where(Device.officer_id == Officer.id, Device.revoked_at.is_(None))
        .order_by(Device.id)
        .limit(1)
        .correlate(Officer)
        .scalar_subquery()
    )
    rows = await session.execute(
        select(Officer, func.coalesce(User.is_active, False), first_phone)
        .outerjoin(User, User.id == Officer.user_id)
        .order_by(Officer.badge)
    )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(roster.EXPORT_COLUMNS)
    for o, active, phone in rows:
        writer.writerow(
            [o.badge, o.name, o.unit_type, o.sector or "", phone or "", "true" if active else "false"]
        )
    return out.getvalue()


def report(checked: roster.RosterCheck) -> ImportReport:
    problems: dict[int, list[str]] = {}
    for row, problem in checked.problems:
        problems.setdefault(row, []).append(problem)
    return ImportReport(
        total=checked.total,
        good=len(checked.rows),
        bad=len(problems),
        skipped=checked.skipped,
        bad_rows=[
            BadRow(
                row=row,
                values=checked.values.get(row, {}),
                columns=checked.columns.get(row, []),
                problems=found,
            )
            for row, found in sorted(problems.items())
        ],
    )


async def check_roster(session: AsyncSession, data: ImportIn) -> roster.RosterCheck:
    badges, phones = await roster.known(session)
    return roster.check(data.csv, badges, phones, fixes=data.fixes, skip=set(data.skip))


def _line(kind: str, **fields: Any) -> bytes:
    return json.dumps({"type": kind, **fields}, ensure_ascii=False).encode() + b"\n"


async def import_stream(rt: Runtime, data: ImportIn, actor_id: int) -> AsyncIterator[bytes]:
    """One transaction: progress after every step, then ``done`` once committed, or ``error`` (rolled
    back: nothing imported). The roster is checked again inside the transaction."""
    try:
        async for session in session_scope(rt.sessions):
            checked = await check_roster(session, data)
            if not checked.ok and not data.skip_invalid:
                raise InvalidInput("the roster has bad rows", code="roster_invalid")
            rows = checked.rows
            yield _line("progress", done=0, total=len(rows))
            created: list[tuple[roster.RosterRow, int]] = []
            for start in range(0, len(rows), roster.STEP):
                step = rows[start : start + roster.STEP]
                created += await roster.import_rows(session, rt.passwords, step, actor_id=actor_id)
                yield _line("progress", done=len(created), total=len(rows))
            result = report(checked)
            result.imported = len(created)
            result.credentials = [
                Credential(badge=row.officer.badge, password=row.officer.password)
                for row, _ in created
                if row.generated_password
            ]
        yield _line("done", report=result.model_dump(mode="json"))
    except AppError as exc:
        yield _line("error", status=exc.status_code, **exc.body())


async def device_setup(
    session: AsyncSession, root: str, officer_id: int, device_id: int, token: str | None
) -> DeviceSetupOut:
    officer = await session.get(Officer, officer_id)
    device = await session.get(Device, device_id)
    if officer is None or device is None or device.officer_id != officer_id:
        raise NotFound(f"device {device_id} not found for officer {officer_id}", code="device_not_found")
    if device.revoked_at is not None:
        raise Conflict(f"device {device_id} is revoked", code="device_revoked")
    if token is not None and device_token_hash(token) != device.token_hash:
        raise InvalidInput("this is not the device's token", code="wrong_device_token")
    traccar = phone_setup.traccar(root, device.identifier)
    owntracks = phone_setup.owntracks(root, officer.badge, device.identifier, token) if token else None
    return DeviceSetupOut(
        server_url=root,
        reachable=phone_setup.reachable_from_phones(root),
        identifier=device.identifier,
        badge=officer.badge,
        traccar=AppSetupOut(link=traccar.link, qr_svg=traccar.qr_svg),
        owntracks=AppSetupOut(link=owntracks.link, qr_svg=owntracks.qr_svg) if owntracks else None,
    )


# -- routes ------------------------------------------------------------------------------------------------

router = APIRouter(route_class=IdempotentRoute, prefix="/api/v1/officers", tags=["tracking"])


async def _row(session: AsyncSession, officer: Officer) -> RosterOfficerOut:
    phones = int(
        await session.scalar(
            select(func.count()).where(Device.officer_id == officer.id, Device.revoked_at.is_(None))
        )
        or 0
    )
    return RosterOfficerOut(
        id=officer.id,
        badge=officer.badge,
        name=officer.name,
        unit_type=officer.unit_type,
        sector=officer.sector,
        status=officer.status,
        active=await is_active(session, officer),
        online=officer.online,
        devices=phones,
        created_at=officer.created_at,
    )


@router.get("/roster", response_model=RosterPageOut)
async def get_roster(
    session: SessionDep,
    _: Admin,
    q: Annotated[str | None, Query(max_length=100, description="part of a badge or name")] = None,
    active: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> RosterPageOut:
    """The officers by badge, with whether their login is enabled and how many phones they have."""
    return await roster_page(session, q, active, limit, offset)


@router.get("/export.csv", response_class=Response, responses={200: {"content": {"text/csv": {}}}})
async def export_roster(session: SessionDep, _: Admin) -> Response:
    """The roster as CSV in the import's columns (``badge,name,unit_type,sector,device_id,active``)."""
    return Response(
        await roster_csv(session),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="officers.csv"', "Cache-Control": "no-store"},
    )


@router.post(
    "/import",
    response_model=ImportReport,
    responses={
        200: {
            "description": "dry_run: the report (JSON); otherwise NDJSON lines: progress, then done or error",
            "content": {"application/x-ndjson": {}},
        }
    },
)
async def import_roster(
    data: ImportIn, rt: RuntimeDep, session: SessionDep, me: Admin, dry_run: bool = True
) -> ImportReport | Response:
    """Check a roster row by row (``dry_run``, the default), or import it. An import with bad rows left
    (neither fixed, nor skipped, nor ``skip_invalid``) is 400 ``roster_invalid`` with the report in
    ``details``."""
    checked = await check_roster(session, data)
    if dry_run:
        return report(checked)
    if not checked.ok and not data.skip_invalid:
        raise InvalidInput(
            "the roster has bad rows: fix or skip them",
            code="roster_invalid",
            details=report(checked).model_dump(mode="json"),
        )
    if not checked.rows:
        raise InvalidInput("no rows to import", code="roster_empty")
    return StreamingResponse(
        import_stream(rt, data, me.user_id),
        media_type="application/x-ndjson",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.patch("/{officer_id}", response_model=RosterOfficerOut)
async def patch_officer(
    officer_id: Id, data: OfficerPatch, session: SessionDep, me: Admin
) -> RosterOfficerOut:
    """Change an officer's badge (also the login's username), name, unit type or sector; audited."""
    return await _row(session, await update_officer(session, officer_id, data, me.user_id))


@router.post("/{officer_id}/deactivate", response_model=RosterOfficerOut)
async def post_deactivate(
    officer_id: Id, rt: RuntimeDep, session: SessionDep, me: Admin, data: ReasonIn | None = None
) -> RosterOfficerOut:
    """Off duty, login disabled, tokens and phones revoked (409 ``officer_busy`` while on an incident)."""
    reason = data.reason if data else None
    return await _row(session, await deactivate(session, rt.bus, officer_id, me.user_id, reason))


@router.post("/{officer_id}/activate", response_model=RosterOfficerOut)
async def post_activate(
    officer_id: Id, session: SessionDep, me: Admin, data: ReasonIn | None = None
) -> RosterOfficerOut:
    """The login works again (phones are registered anew)."""
    reason = data.reason if data else None
    return await _row(session, await activate(session, officer_id, me.user_id, reason))


def public_root(rt: Runtime, request: Request) -> str:
    return (rt.settings.public_url or str(request.base_url)).rstrip("/")


@router.post("/{officer_id}/devices/{device_id}/setup", response_model=DeviceSetupOut)
async def post_device_setup(
    officer_id: Id,
    device_id: Id,
    request: Request,
    rt: RuntimeDep,
    session: SessionDep,
    _: Admin,
    data: SetupIn | None = None,
) -> DeviceSetupOut:
    """Set-up links and QR codes for the phone: Traccar Client (needs only the identifier) and, given the
    device token (``token``, as registering the phone answered), OwnTracks. Links use ``JOGO_PUBLIC_URL``,
    else the address this request came to."""
    token = data.token if data else None
    return await device_setup(session, public_root(rt, request), officer_id, device_id, token)
