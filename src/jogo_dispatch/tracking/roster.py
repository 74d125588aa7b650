"""A roster of officers from a CSV file (the whole Polresta at once: 840 rows), checked row by row.

Columns (header row, any order, names case-insensitive): ``badge``, ``name``, ``unit_type`` (car,
motorbike, foot), optional ``sector``, ``device_id`` (the phone's Traccar/OwnTracks id) and ``password``
(generated when empty). :func:`check` is pure: it reads the text and says, per data row (numbered as a
spreadsheet shows them, the header being row 1), what is wrong. :func:`import_rows` creates the officers
of the rows that passed, in the caller's unit of work.
"""

from __future__ import annotations

import csv
import io
import secrets
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.platform.security import Passwords
from jogo_dispatch.tracking.models import Device, Officer
from jogo_dispatch.tracking.schemas import OfficerCreate
from jogo_dispatch.tracking.service import create_officer

REQUIRED = ("badge", "name", "unit_type")
OPTIONAL = ("sector", "device_id", "password")
MAX_ROWS = 20_000


@dataclass(frozen=True, slots=True)
class RosterRow:
    row: int
    officer: OfficerCreate
    generated_password: bool


@dataclass(slots=True)
class RosterCheck:
    rows: list[RosterRow] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)  # (row number, what is wrong)

    @property
    def ok(self) -> bool:
        return not self.problems


def check(
    text: str, existing_badges: Collection[str] = (), existing_devices: Collection[str] = ()
) -> RosterCheck:
    """Every problem of every row (not only the first), so one pass over the file fixes them all."""
    result = RosterCheck()
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))  # spreadsheets write a BOM
    header = {(h or "").strip().lower() for h in reader.fieldnames or []}
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        result.problems.append((1, f"missing column(s): {', '.join(missing)}"))
        return result
    unknown = sorted(header - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        result.problems.append((1, f"unknown column(s): {', '.join(unknown)}"))
        return result
    badges: dict[str, int] = {}
    devices: dict[str, int] = {}
    for number, raw in enumerate(reader, start=2):
        if number - 1 > MAX_ROWS:
            result.problems.append((number, f"more than {MAX_ROWS} rows"))
            break
        values = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items() if k is not None}
        if None in raw:
            result.problems.append((number, "more fields than columns"))
            continue
        if not any(values.values()):
            continue  # a blank line
        password = values.get("password") or ""
        try:
            officer = OfficerCreate(
                badge=values["badge"],
                name=values["name"],
                unit_type=values["unit_type"],
                sector=values.get("sector") or None,
                device_id=values.get("device_id") or None,
                password=password or secrets.token_urlsafe(9),
            )
        except ValidationError as exc:
            for err in exc.errors():
                result.problems.append((number, f"{'.'.join(map(str, err['loc']))}: {err['msg']}"))
            continue
        problems = []
        if officer.badge in existing_badges:
            problems.append(f"badge {officer.badge!r} already exists")
        elif officer.badge in badges:
            problems.append(f"badge {officer.badge!r} repeats row {badges[officer.badge]}")
        if officer.device_id:
            if officer.device_id in existing_devices:
                problems.append(f"device_id {officer.device_id!r} is already registered")
            elif officer.device_id in devices:
                problems.append(f"device_id {officer.device_id!r} repeats row {devices[officer.device_id]}")
        badges.setdefault(officer.badge, number)
        if officer.device_id:
            devices.setdefault(officer.device_id, number)
        if problems:
            result.problems.extend((number, p) for p in problems)
            continue
        result.rows.append(RosterRow(number, officer, generated_password=not password))
    return result


async def known(session: AsyncSession) -> tuple[set[str], set[str]]:
    """Badges and active device identifiers already in the database."""
    badges = set(await session.scalars(select(Officer.badge)))
    devices = set(await session.scalars(select(Device.identifier).where(Device.revoked_at.is_(None))))
    return badges, devices


async def import_rows(
    session: AsyncSession,
    passwords: Passwords,
    rows: Sequence[RosterRow],
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> list[tuple[RosterRow, int]]:
    """Create the officers (and their logins, and their phones when a device_id is given); flushes, the
    caller commits. Returns each row with its officer id."""
    created = []
    for i, row in enumerate(rows, start=1):
        officer = await create_officer(session, passwords, row.officer)
        created.append((row, officer.id))
        if i % 50 == 0 or i == len(rows):
            progress(i, len(rows))
    return created
