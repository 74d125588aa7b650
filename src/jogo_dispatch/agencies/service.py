"""Agencies and jurisdictions: loading region packs, routing decisions, the rules admins edit.

Other domains call:
* ``route_for(session, settings, category, lat, lon, injured=...)`` -> ``routing.RoutingDecision``
  (police sector, responsible / always-notify agencies and nearest hospitals, each with its agency id);
* ``sector_for(session, settings, lat, lon)`` -> the sector around (or nearest to) a point (the one
  police-sector lookup).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.agencies import repository as repo
from jogo_dispatch.agencies import routing
from jogo_dispatch.agencies.models import RoutingRule
from jogo_dispatch.agencies.schemas import RuleIn, RuleOut
from jogo_dispatch.errors import Conflict, InvalidInput, NotFound
from jogo_dispatch.plans import defaults as plan_defaults
from jogo_dispatch.platform import audit
from jogo_dispatch.settings import Settings

# -- region packs and routing -------------------------------------------------------------------------------


async def seed_region(
    session: AsyncSession, pack: routing.Pack, progress: Callable[[str], None] = lambda _: None
) -> dict[str, repo.Counts]:
    """Load a region pack: upsert sectors, agencies and rules by code (rows added through the API stay), and
    add the categories the catalogue lacks. Returns {table: (inserted, updated)}."""
    added = await repo.add_missing_categories(session, pack.categories.values())
    progress(f"categories: {added} added to the catalogue")
    done = {
        "categories": (added, 0),
        "police_sectors": await repo.upsert_sectors(session, pack.region, pack.sectors),
        "agencies": await repo.upsert_agencies(session, pack.region, list(pack.agencies.values())),
        "routing_rules": await repo.upsert_rules(session, pack.region, pack.rules),
        "response_plans": await plan_defaults.seed_defaults(session, set(pack.agencies)),
    }
    for table, total in (
        ("police_sectors", len(pack.sectors)),
        ("agencies", len(pack.agencies)),
        ("routing_rules", len(pack.rules)),
        ("response_plans", len(plan_defaults.DEFAULTS)),
    ):
        progress(f"{table}: {total} in pack, {done[table][0]} new, {done[table][1]} updated")
    return done


async def load_pack(session: AsyncSession, region: str) -> routing.Pack:
    pack = await repo.load_pack(session, region)
    if not pack.sectors and not pack.agencies:
        raise NotFound(
            f"region {region!r} is not loaded (jogo-dispatch seed --region {region})",
            code="region_not_loaded",
        )
    return pack


SOS_CATEGORIES = ("sos", "officer_sos")


async def route_for(
    session: AsyncSession,
    settings: Settings,
    category: str,
    lat: float,
    lon: float,
    *,
    injured: bool = False,
    region: str | None = None,
    hospitals: int | None = None,
) -> routing.RoutingDecision:
    """Where a report of ``category`` at (lat, lon) goes, by the rules in the database. An SOS (a citizen's
    or an officer's) goes where ``other`` goes, the police of its sector: ``category`` of the decision says
    so, and the first reason."""
    pack = await load_pack(session, region or settings.region)
    if category in SOS_CATEGORIES:
        decision = routing.route(
            "other",
            lat,
            lon,
            pack,
            injured=injured,
            hospitals=settings.route_hospitals if hospitals is None else hospitals,
        )
        why = f"{category}: an SOS goes to the police of its sector (routed as other)"
        return dataclasses.replace(decision, reasons=[why, *decision.reasons])
    try:
        return routing.route(
            category,
            lat,
            lon,
            pack,
            injured=injured,
            hospitals=settings.route_hospitals if hospitals is None else hospitals,
        )
    except routing.UnknownCategory:
        raise InvalidInput(f"unknown category {category!r}", code="unknown_category") from None


async def sector_for(
    session: AsyncSession, settings: Settings, lat: float, lon: float, region: str | None = None
) -> routing.SectorHit | None:
    """The police sector whose polygon covers the point, else the nearest one (None: no sectors loaded)."""
    return (await repo.load_pack(session, region or settings.region, sectors_only=True)).locate(lat, lon)


# -- routing rules ------------------------------------------------------------------------------------------


def _rule_state(rule: RoutingRule) -> dict[str, Any]:
    return RuleOut.model_validate(rule).model_dump(mode="json", exclude={"created_at", "updated_at"})


def _activity(active: bool) -> str:
    return "active" if active else "inactive"


async def _checked(session: AsyncSession, region: str, data: RuleIn) -> routing.Rule:
    rule = routing.Rule(
        category=data.category,
        agency=data.agency_code,
        role=data.role,
        sector=data.sector_code,
        priority=data.priority,
        active=data.active,
    )
    problem = routing.rule_problem(rule, await load_pack(session, region))
    if problem:
        raise InvalidInput(problem, code="bad_rule")
    return rule


async def _save(session: AsyncSession, rule: RoutingRule, data: RuleIn) -> None:
    rule.category, rule.agency_code, rule.role, rule.sector_code = (
        data.category,
        data.agency_code,
        data.role,
        data.sector_code,
    )
    rule.priority, rule.active = data.priority, data.active
    try:
        async with session.begin_nested():
            session.add(rule)
            await session.flush()
    except IntegrityError:
        raise Conflict(
            "an identical rule exists (region, category, role, agency, sector)", code="rule_exists"
        ) from None
    await session.refresh(rule)


async def create_rule(session: AsyncSession, settings: Settings, data: RuleIn, actor_id: int) -> RoutingRule:
    rule = RoutingRule(region=data.region or settings.region)
    await _checked(session, rule.region, data)
    await _save(session, rule, data)
    audit.record(
        session,
        "routing_rule",
        rule.id,
        "create",
        to_state=_activity(rule.active),
        actor_id=actor_id,
        data={"after": _rule_state(rule)},
    )
    return rule


async def _rule(session: AsyncSession, rule_id: int) -> RoutingRule:
    rule = await repo.rule(session, rule_id)
    if rule is None:
        raise NotFound(f"routing rule {rule_id} not found")
    return rule


async def update_rule(session: AsyncSession, rule_id: int, data: RuleIn, actor_id: int) -> RoutingRule:
    rule = await _rule(session, rule_id)
    if data.region is not None and data.region != rule.region:
        raise InvalidInput("a rule cannot move to another region", code="bad_rule")
    await _checked(session, rule.region, data)
    before = _rule_state(rule)
    await _save(session, rule, data)
    audit.record(
        session,
        "routing_rule",
        rule.id,
        "update",
        from_state=_activity(before["active"]),
        to_state=_activity(rule.active),
        actor_id=actor_id,
        data={"before": before, "after": _rule_state(rule)},
    )
    return rule


async def delete_rule(session: AsyncSession, rule_id: int, actor_id: int) -> None:
    rule = await _rule(session, rule_id)
    audit.record(
        session,
        "routing_rule",
        rule.id,
        "delete",
        from_state=_activity(rule.active),
        to_state="deleted",
        actor_id=actor_id,
        data={"before": _rule_state(rule)},
    )
    await session.delete(rule)
    await session.flush()
