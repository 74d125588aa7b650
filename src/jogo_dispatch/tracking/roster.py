"""A roster of officers from a CSV file (the whole Polresta at once: 840 rows), checked row by row. The
command line (``import-officers``) and the admin console (``POST /api/v1/officers/import``) both use it.

Columns (header row, any order, names case-insensitive): ``badge``, ``name``, ``unit_type`` (car,
motorbike, foot), optional ``sector``, ``device_id`` (the phone's Traccar/OwnTracks id), ``password``
(generated when empty) and ``active`` (``false``/``0``/``no``/``tidak``: imported deactivated; what the
export writes). :func:`check` is pure: it reads the text and says, per data row (numbered as a spreadsheet
shows them, the header being row 1), what is wrong. The console sends the same text again with ``fixes``
(cells typed in for a row) and ``skip`` (rows left out); they apply by those same numbers.
:func:`import_rows` creates the officers of the rows that passed, in the caller's unit of work.
"""

from __future__ import annotations

import asyncio
import csv
import io
import secrets
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.accounts.models import User
from jogo_dispatch.platform.security import Passwords
from jogo_dispatch.tracking.models import Device, Officer
from jogo_dispatch.tracking.schemas import OfficerCreate
from jogo_dispatch.tracking.service import create_officer

REQUIRED = ("badge", "name", "unit_type")
OPTIONAL = ("sector", "device_id", "password", "active")
COLUMNS = REQUIRED + OPTIONAL
EXPORT_COLUMNS = ("badge", "name", "unit_type", "sector", "device_id", "active")
MAX_ROWS = 20_000
TRUE = frozenset({"", "true", "1", "yes", "y", "ya"})
FALSE = frozenset({"false", "0", "no", "n", "tidak"})
# Officers hashed and created per step: the step is what progress reports count.
STEP = 50
# argon2 releases the GIL: a few threads hash a big roster in a fraction of the time.
HASH_THREADS = 4


@dataclass(frozen=True, slots=True)
class RosterRow:
    row: int
    officer: OfficerCreate
    generated_password: bool
    active: bool = True


@dataclass(slots=True)
class RosterCheck:
    rows: list[RosterRow] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)  # (row number, what is wrong)
    # Of each bad row: its cells (the password left out) and the columns its problems are about.
    values: dict[int, dict[str, str]] = field(default_factory=dict)
    columns: dict[int, list[str]] = field(default_factory=dict)
    skipped: list[int] = field(default_factory=list)
    total: int = 0  # data rows read, blank lines and skipped rows included

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def bad_rows(self) -> list[int]:
        return sorted({r for r, _ in self.problems})

    def _bad(self, number: int, problem: str, column: str | None, values: dict[str, str]) -> None:
        self.problems.append((number, problem))
        self.values.setdefault(number, {k: v for k, v in values.items() if k != "password"})
        cols = self.columns.setdefault(number, [])
        if column and column not in cols:
            cols.append(column)


def check(
    text: str,
    existing_badges: Collection[str] = (),
    existing_devices: Collection[str] = (),
    *,
    fixes: Mapping[int, Mapping[str, str]] | None = None,
    skip: Collection[int] = (),
) -> RosterCheck:
    """Every problem of every row (not only the first), so one pass over the file fixes them all."""
    fixes = fixes or {}
    result = RosterCheck()
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))  # spreadsheets write a BOM
    header = {(h or "").strip().lower() for h in reader.fieldnames or []}
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        result.problems.append((1, f"missing column(s): {', '.join(missing)}"))
        return result
    unknown = sorted(header - set(COLUMNS))
    if unknown:
        result.problems.append((1, f"unknown column(s): {', '.join(unknown)}"))
        return result
    badges: dict[str, int] = {}
    devices: dict[str, int] = {}
    for number, raw in enumerate(reader, start=2):
        if number - 1 > MAX_ROWS:
            result.problems.append((number, f"more than {MAX_ROWS} rows"))
            break
        result.total += 1
        if number in skip:
            result.skipped.append(number)
            continue
        values = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items() if k is not None}
        for column, value in fixes.get(number, {}).items():
            if column in COLUMNS:
                values[column] = value.strip()
        if None in raw and number not in fixes:
            result._bad(number, "more fields than columns", None, values)
            continue
        if not any(values.values()):
            continue  # a blank line
        checked = _row(number, values, existing_badges, existing_devices, badges, devices, result)
        if checked is not None:
            result.rows.append(checked)
    return result


def _row(
    number: int,
    values: dict[str, str],
    existing_badges: Collection[str],
    existing_devices: Collection[str],
    badges: dict[str, int],
    devices: dict[str, int],
    result: RosterCheck,
) -> RosterRow | None:
    password = values.get("password") or ""
    active_text = (values.get("active") or "").lower()
    bad = False
    if active_text not in TRUE | FALSE:
        result._bad(number, f"active: {values.get('active')!r} is not true or false", "active", values)
        bad = True
    try:
        officer = OfficerCreate(
            badge=values.get("badge", ""),
            name=values.get("name", ""),
            unit_type=values.get("unit_type", ""),  # pydantic checks it
            sector=values.get("sector") or None,
            device_id=values.get("device_id") or None,
            password=password or secrets.token_urlsafe(9),
        )
    except ValidationError as exc:
        for err in exc.errors():
            column = str(err["loc"][0]) if err["loc"] else None
            result._bad(number, f"{'.'.join(map(str, err['loc']))}: {err['msg']}", column, values)
        return None
    if officer.badge in existing_badges:
        result._bad(number, f"badge {officer.badge!r} already exists", "badge", values)
        bad = True
    elif officer.badge in badges:
        result._bad(number, f"badge {officer.badge!r} repeats row {badges[officer.badge]}", "badge", values)
        bad = True
    if officer.device_id:
        if officer.device_id in existing_devices:
            result._bad(number, f"device_id {officer.device_id!r} is already registered", "device_id", values)
            bad = True
        elif officer.device_id in devices:
            problem = f"device_id {officer.device_id!r} repeats row {devices[officer.device_id]}"
            result._bad(number, problem, "device_id", values)
            bad = True
    badges.setdefault(officer.badge, number)
    if officer.device_id:
        devices.setdefault(officer.device_id, number)
    if bad:
        return None
    return RosterRow(number, officer, generated_password=not password, active=active_text not in FALSE)


async def known(session: AsyncSession) -> tuple[set[str], set[str]]:
    """Badges and active device identifiers already in the database."""
    badges = set(await session.scalars(select(Officer.badge)))
    devices = set(await session.scalars(select(Device.identifier).where(Device.revoked_at.is_(None))))
    return badges, devices


class _Hashed(Passwords):
    """Hands out the hashes made ahead of time (in threads) for one step of the import."""

    def __init__(self, base: Passwords, hashes: dict[str, str]) -> None:  # no hasher of its own
        self._base = base
        self._hashes = hashes

    def hash(self, password: str) -> str:
        return self._hashes.get(password) or self._base.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        return self._base.verify(password_hash, password)


async def import_rows(
    session: AsyncSession,
    passwords: Passwords,
    rows: Sequence[RosterRow],
    progress: Callable[[int, int], None] = lambda done, total: None,
    actor_id: int | None = None,
) -> list[tuple[RosterRow, int]]:
    """Create the officers (and their logins, and their phones when a device_id is given); flushes, the
    caller commits. Returns each row with its officer id. An officer whose row says ``active`` false gets
    a disabled login and is off duty."""
    created = []
    loop = asyncio.get_running_loop()
    with ThreadPoolExecutor(HASH_THREADS, thread_name_prefix="roster-hash") as pool:
        for start in range(0, len(rows), STEP):
            step = rows[start : start + STEP]
            secrets_ = [r.officer.password for r in step]
            hashed = await asyncio.gather(*(loop.run_in_executor(pool, passwords.hash, p) for p in secrets_))
            ahead = _Hashed(passwords, dict(zip(secrets_, hashed, strict=True)))
            for row in step:
                officer = await create_officer(session, ahead, row.officer, actor_id)
                if not row.active:
                    await _created_inactive(session, officer)
                created.append((row, officer.id))
            progress(len(created), len(rows))
    return created


async def _created_inactive(session: AsyncSession, officer: Officer) -> None:
    officer.status = "off_duty"
    user = await session.get(User, officer.user_id) if officer.user_id is not None else None
    if user is not None:
        user.is_active = False
    await session.flush()
