"""The run cards a region pack ships with (agencies a region does not have are left out of its plans)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.plans.models import ResponsePlan

# (name, category, priority or None, units, forward_to, suggest)
DEFAULTS: tuple[tuple[str, str, int | None, int, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "Kecelakaan dengan korban / crash with injuries",
        "traffic_accident",
        1,
        2,
        ("JASA_RAHARJA",),
        ("DISHUB",),
    ),
    (
        "Kecelakaan dengan korban / crash with injuries",
        "traffic_accident",
        2,
        2,
        ("JASA_RAHARJA",),
        ("DISHUB",),
    ),
    ("Kecelakaan / crash", "traffic_accident", None, 1, (), ("JASA_RAHARJA", "DISHUB")),
    ("Kemacetan / traffic jam", "traffic_jam", None, 1, (), ("DISHUB",)),
    ("Pohon tumbang / fallen tree", "fallen_tree", None, 0, ("DLH",), ("BPBD",)),
    ("Listrik padam / power failure", "power_outage", None, 0, ("PLN",), ()),
    ("Air mati / water outage", "water_outage", None, 0, ("PDAM",), ()),
    ("Jalan rusak / road damage", "road_damage", None, 0, ("PUPR",), ("DISHUB",)),
    ("Banjir, longsor / flood, landslide", "flood_landslide", None, 1, ("BPBD",), ("PUPR", "DINKES")),
    ("Kebakaran / fire", "fire", None, 1, ("DAMKAR",), ("PLN",)),
    ("Gangguan ketertiban / public order", "public_order", None, 1, (), ("SATPOL_PP",)),
    ("Kejahatan / crime", "crime", None, 1, (), ()),
    ("Darurat medis / medical", "medical", None, 1, (), ("DINKES",)),
    ("SOS warga / citizen SOS", "sos", None, 1, (), ()),
)


async def seed_defaults(session: AsyncSession, agency_codes: set[str]) -> tuple[int, int]:
    """Add the default plans that are missing (by name and category); returns (added, already there)."""
    have = set(await session.execute(select(ResponsePlan.name, ResponsePlan.category, ResponsePlan.priority)))
    added = 0
    for name, category, priority, units, forward_to, suggest in DEFAULTS:
        if (name, category, priority) in have:
            continue
        session.add(
            ResponsePlan(
                name=name,
                category=category,
                priority=priority,
                units=units,
                unit_types=[],
                forward_to=[c for c in forward_to if c in agency_codes],
                suggest=[c for c in suggest if c in agency_codes],
            )
        )
        added += 1
    await session.flush()
    return added, len(DEFAULTS) - added
