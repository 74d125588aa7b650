"""Demo data for the run command: command-centre logins and a fleet of simulated officers."""

from __future__ import annotations

import random
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.accounts.models import User
from jogo_dispatch.platform.db import utcnow
from jogo_dispatch.platform.security import Passwords, device_token_hash, new_device_token
from jogo_dispatch.tracking.models import Device, Officer

DEMO_PASSWORD = "jogo-demo"
SIM_PREFIX = "SIM-"
SECTORS = ("Klojen", "Blimbing", "Lowokwaru", "Sukun", "Kedungkandang")
UNIT_MIX = (("motorbike", 0.55), ("car", 0.30), ("foot", 0.15))
FIRST = (
    "Andi",
    "Budi",
    "Citra",
    "Dewi",
    "Eko",
    "Fajar",
    "Gita",
    "Hadi",
    "Indah",
    "Joko",
    "Kurnia",
    "Lestari",
    "Made",
    "Nur",
    "Oki",
    "Putri",
    "Rizki",
    "Sari",
    "Teguh",
    "Wahyu",
    "Yusuf",
)
LAST = ("Santoso", "Wijaya", "Pratama", "Saputra", "Hidayat", "Kurniawan", "Setiawan", "Nugroho", "Rahmawati")
RANKS = ("Bripda", "Briptu", "Brigpol", "Bripka", "Aipda", "Aiptu", "Ipda")


@dataclass(frozen=True)
class SimOfficer:
    officer_id: int
    badge: str
    unit_type: str
    device: str
    token: str


async def ensure_user(
    session: AsyncSession, passwords: Passwords, username: str, role: str, name: str
) -> None:
    if await session.scalar(select(User.id).where(User.username == username)) is None:
        session.add(
            User(username=username, password_hash=passwords.hash(DEMO_PASSWORD), role=role, full_name=name)
        )
        await session.flush()


async def seed_demo(
    session: AsyncSession, passwords: Passwords, officers: int, seed: int = 7
) -> list[SimOfficer]:
    """Idempotent: creates what is missing and gives every simulated officer a fresh device token."""
    rng = random.Random(seed)
    await ensure_user(session, passwords, "admin", "admin", "Admin Command Centre")
    await ensure_user(session, passwords, "dispatcher", "dispatcher", "Operator Jaga")
    existing = {
        o.badge: o for o in await session.scalars(select(Officer).where(Officer.badge.like(f"{SIM_PREFIX}%")))
    }
    # One argon2 hash shared by all simulated officers: hashing 840 passwords would take most of a minute.
    shared_hash = passwords.hash(DEMO_PASSWORD)
    for i in range(1, officers + 1):
        badge = f"{SIM_PREFIX}{i:04d}"
        if badge in existing:
            continue
        unit = rng.choices([u for u, _ in UNIT_MIX], [w for _, w in UNIT_MIX])[0]
        name = f"{rng.choice(RANKS)} {rng.choice(FIRST)} {rng.choice(LAST)}"
        user = User(username=badge, password_hash=shared_hash, role="officer", full_name=name)
        session.add(user)
        await session.flush()
        officer = Officer(
            user_id=user.id,
            badge=badge,
            name=name,
            unit_type=unit,
            status="available",
            sector=SECTORS[i % len(SECTORS)],
        )
        session.add(officer)
        existing[badge] = officer
    await session.flush()
    sim_ids = [o.id for o in existing.values()]
    await session.execute(
        update(Device)
        .where(Device.officer_id.in_(sim_ids), Device.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    await session.execute(
        update(Device)
        .where(Device.officer_id.in_(sim_ids), Device.identifier.not_like("%#revoked-%"))
        .values(identifier=func.concat(Device.identifier, "#revoked-", Device.id))
    )
    out = []
    for badge in sorted(existing)[:officers]:
        o = existing[badge]
        token = new_device_token()
        device = f"sim-{badge.lower()}-{rng.randrange(16**6):06x}"
        session.add(
            Device(officer_id=o.id, identifier=device, token_hash=device_token_hash(token), label="simulator")
        )
        out.append(SimOfficer(o.id, badge, o.unit_type, device, token))
    await session.flush()
    return out
