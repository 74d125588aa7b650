"""create_app(settings) and its lifespan. Nothing happens at import time."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import os
import signal
from collections.abc import AsyncIterator
from typing import Any

import psycopg
import structlog
from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from jogo_dispatch import __version__
from jogo_dispatch.abuse import service as abuse
from jogo_dispatch.abuse import withdraw as abuse_withdraw
from jogo_dispatch.abuse.router import router as abuse_router
from jogo_dispatch.accounts.router import router as accounts_router
from jogo_dispatch.accounts.service import Authenticator
from jogo_dispatch.admin.router import router as admin_router
from jogo_dispatch.agencies.router import router as agencies_router
from jogo_dispatch.agencyapp.router import router as agency_page_router
from jogo_dispatch.alerts import service as alerts
from jogo_dispatch.alerts.router import router as alerts_router
from jogo_dispatch.dispatch import wiring as dispatch_wiring
from jogo_dispatch.dispatch.desk_router import router as desk_router
from jogo_dispatch.dispatch.intake_router import router as intake_router
from jogo_dispatch.dispatch.router import router as dispatch_router
from jogo_dispatch.errors import ERROR_RESPONSES
from jogo_dispatch.forwards import delivery as forward_delivery
from jogo_dispatch.forwards import forms as forward_forms
from jogo_dispatch.forwards import live as forwards_live
from jogo_dispatch.forwards.router import router as forwards_router
from jogo_dispatch.home import router as home
from jogo_dispatch.live.hub import LiveHub
from jogo_dispatch.live.page import router as live_page_router
from jogo_dispatch.live.pubsub import PostgresRelay
from jogo_dispatch.live.router import router as live_router
from jogo_dispatch.open311.router import discovery_router as open311_discovery_router
from jogo_dispatch.open311.router import keys_router as api_keys_router
from jogo_dispatch.open311.router import router as open311_router
from jogo_dispatch.open311.router import staff_router as open311_staff_router
from jogo_dispatch.open311.schemas import PREFIX as OPEN311_PREFIX
from jogo_dispatch.open311.schemas import error_response as open311_error
from jogo_dispatch.plans.router import router as plans_router
from jogo_dispatch.platform import error_handlers, ratelimit
from jogo_dispatch.platform.body_limit import BodyLimitMiddleware
from jogo_dispatch.platform.db import make_engine, make_sessionmaker, utcnow
from jogo_dispatch.platform.events import CredentialsChanged, EventBus
from jogo_dispatch.platform.headers import SecurityHeadersMiddleware
from jogo_dispatch.platform.health import MetricsMiddleware
from jogo_dispatch.platform.health import router as ops_router
from jogo_dispatch.platform.idempotency import PURGE as PURGE_IDEMPOTENCY_KEYS
from jogo_dispatch.platform.idempotency import IdempotencyMiddleware
from jogo_dispatch.platform.logging import configure_logging
from jogo_dispatch.platform.security import Passwords, Tokens, signing_key
from jogo_dispatch.reports.catalogue_admin import router as catalogue_admin_router
from jogo_dispatch.reports.forms import FORM_FIELDS_BYTES as REPORT_FORM_FIELDS_BYTES
from jogo_dispatch.reports.router import router as reports_router
from jogo_dispatch.responders import service as responders
from jogo_dispatch.responders.router import router as responders_router
from jogo_dispatch.rewards import service as rewards
from jogo_dispatch.rewards.router import router as rewards_router
from jogo_dispatch.runtime import Runtime
from jogo_dispatch.settings import Settings, to_libpq_url
from jogo_dispatch.tracking import live as tracking_live
from jogo_dispatch.tracking import partitions
from jogo_dispatch.tracking.channels import OfficerChannels
from jogo_dispatch.tracking.devices import DeviceDirectory
from jogo_dispatch.tracking.fastlane import PATH as PING_PATH
from jogo_dispatch.tracking.fastlane import PingFastLane
from jogo_dispatch.tracking.filters import FilterConfig
from jogo_dispatch.tracking.ingest import Ingest
from jogo_dispatch.tracking.officers_admin import router as officers_admin_router
from jogo_dispatch.tracking.phones import router as phones_router
from jogo_dispatch.tracking.presence import presence_loop
from jogo_dispatch.tracking.router import router as tracking_router
from jogo_dispatch.tracking.stream import router as stream_router
from jogo_dispatch.tracking.writer import PingWriter
from jogo_dispatch.webapp.router import router as webapp_router

log = structlog.get_logger(__name__)
# An Open311 request may carry several photos beside its fields (FixMyStreet: photo1, photo2, photo3).
OPEN311_PHOTOS = 3

PARTITION_MAINTENANCE_S = 3600


async def build_runtime(settings: Settings) -> Runtime:
    engine = make_engine(settings.sqlalchemy_url(), settings.db_pool_size)
    sessions = make_sessionmaker(engine)
    key = signing_key(settings.secret_key, settings.data_dir)
    tokens = Tokens(key, settings.access_token_ttl_s, settings.jwt_algorithm)
    passwords = Passwords(fast=settings.env == "test")
    writer = PingWriter(
        to_libpq_url(settings.database_url or ""),
        max_batch=settings.writer_max_batch,
        connections=settings.writer_connections,
    )
    ingest = Ingest(
        writer,
        FilterConfig(
            settings.future_tolerance_s,
            settings.retention_days,
            settings.max_speed_mps,
            settings.max_accuracy_m,
        ),
    )
    bus = EventBus()
    return Runtime(
        settings=settings,
        engine=engine,
        sessions=sessions,
        passwords=passwords,
        tokens=tokens,
        auth=Authenticator(sessions, tokens, passwords, settings.auth_cache_ttl_s),
        devices=DeviceDirectory(sessions),
        writer=writer,
        ingest=ingest,
        bus=bus,
        index=responders.make_index(settings),
        hub=LiveHub(bus, settings.live_coalesce_s, settings.live_queue_max),
        limiter=ratelimit.make_limiter(settings, engine),
        officer_channels=OfficerChannels(bus),
    )


async def maintain_partitions(settings: Settings) -> list[str]:
    async with await psycopg.AsyncConnection.connect(to_libpq_url(settings.database_url or "")) as conn:
        dropped = await partitions.maintain(
            conn, utcnow().date(), settings.partitions_ahead_days, settings.retention_days
        )
        await conn.commit()
    if dropped:
        log.info("dropped ping partitions past retention", partitions=dropped)
    return dropped


async def _device_reload_loop(rt: Runtime) -> None:
    while True:
        await asyncio.sleep(rt.auth.DEVICE_RELOAD_S)
        try:
            await rt.auth.load_devices()
        except Exception:  # noqa: BLE001 - kept the previous table; retried next round
            log.warning("device token reload failed")


async def _maintenance_loop(rt: Runtime) -> None:
    """Hourly: ping partitions ahead of time and past retention, expired idempotency keys."""
    while True:
        await asyncio.sleep(PARTITION_MAINTENANCE_S)
        try:
            await maintain_partitions(rt.settings)
            async with rt.engine.begin() as conn:
                await conn.execute(PURGE_IDEMPOTENCY_KEYS)
        except Exception:  # noqa: BLE001 - retried next round
            log.exception("maintenance failed")


async def serve_osmand_port(app: FastAPI, settings: Settings) -> None:
    """Phones configured for a Traccar server post to ``/`` on port 5055: serve the OsmAnd handler there."""
    import uvicorn

    port = settings.osmand_port
    if not port:  # the second port is switched off
        return

    async def osmand_root(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] in ("/", ""):
            scope = {**scope, "path": "/osmand", "raw_path": b"/osmand"}
        await app(scope, receive, send)

    config = uvicorn.Config(
        osmand_root,
        host=settings.osmand_host,
        port=port,
        lifespan="off",
        log_level="warning",
        access_log=False,
    )
    server = uvicorn.Server(config)
    try:
        await server.serve()
    except (OSError, SystemExit) as exc:
        log.warning(
            "OsmAnd port not served (another worker may hold it)", port=settings.osmand_port, error=str(exc)
        )


# Who started this process, read at import (a worker imports this module as it starts): a supervisor that
# dies while the worker is still starting up must not go unnoticed.
PARENT_AT_START = os.getppid()


async def exit_with_parent(supervisor: int | None = None, check_s: float = 1.0) -> None:
    """A worker whose supervisor died (even by SIGKILL) is reparented: it then stops itself (SIGTERM, so
    the usual shutdown runs) instead of serving on with nobody to manage it. ``supervisor``: the pid the
    supervisor put in JOGO_SUPERVISOR_PID; without it, the parent seen when this module was imported
    (which misses a supervisor that died before a slow worker got that far)."""
    parent = supervisor or PARENT_AT_START
    while True:
        if os.getppid() != parent:
            log.warning("supervisor gone: stopping this worker", supervisor=parent)
            os.kill(os.getpid(), signal.SIGTERM)
            return
        await asyncio.sleep(check_s)


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    rt = await build_runtime(settings)
    await maintain_partitions(settings)
    async with rt.sessions() as session:
        await rt.ingest.load(session)
    await rt.writer.start()
    rt.loop = asyncio.get_running_loop()
    rt.bus.on(CredentialsChanged, lambda e: rt.auth.credentials_changed(e.device_id))
    rt.bus.on(CredentialsChanged, lambda e: rt.sockets.revoked(e.user_id, e.device_id))
    await rt.auth.load_devices()
    rt.hooks.false_report.append(abuse.false_report_hook(settings, rt.bus))
    rt.hooks.false_report_withdrawn.append(abuse_withdraw.false_report_withdrawn_hook(settings))
    async with rt.sessions() as session:
        loaded = await responders.rebuild(rt.index, session)
    responders.keep_current(rt.index, rt.bus)
    tracking_live.publish_positions(rt.writer, rt.bus, rt.settings)
    tracking_live.provide_snapshot(rt.hub, rt.settings)
    alerts.provide_snapshot(rt.hub)
    forwards_live.provide(rt.hub)
    relay = None
    if settings.pubsub == "postgres":
        relay = PostgresRelay(to_libpq_url(settings.database_url or ""), rt.bus)
        await relay.start()
    tasks = [
        asyncio.create_task(_maintenance_loop(rt), name="maintenance"),
        asyncio.create_task(_device_reload_loop(rt), name="device-tokens"),
    ]
    if settings.presence_sweep_s > 0:
        tasks.append(asyncio.create_task(presence_loop(rt, settings.presence_sweep_s), name="presence"))
    if settings.osmand_port:
        tasks.append(asyncio.create_task(serve_osmand_port(app, settings), name="osmand-port"))
    if settings.exit_with_parent:
        tasks.append(asyncio.create_task(exit_with_parent(settings.supervisor_pid), name="exit-with-parent"))
    tasks.extend(dispatch_wiring.start(rt))
    tasks.extend(forward_delivery.start(rt))
    tasks.extend(ratelimit.start(rt.limiter))
    rewards.start(rt)
    app.state.runtime = rt
    # What start-up built lives as long as the process: keep the collector from rescanning it (a full
    # collection over it is a pause every ingest request would wait out).
    gc.collect()
    gc.freeze()
    log.info("jogo-dispatch ready", version=__version__, indexed_officers=loaded)
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        # Let them finish (a sweep rolls back its unit of work) while the database is still there.
        if tasks:
            _, stuck = await asyncio.wait(tasks, timeout=5)
            for task in stuck:
                log.warning("background task did not stop", task=task.get_name())
        if relay is not None:
            await relay.stop()
        await rt.writer.stop()
        await rt.engine.dispose()


class DispatchApp(FastAPI):
    """The app, with the ping fast lane (tracking.fastlane) in front of every layer, FastAPI's own too."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._ping_lane = PingFastLane(functools.partial(FastAPI.__call__, self))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == PING_PATH:
            scope["app"] = self
            await self._ping_lane(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging(settings.log_level, settings.log_json)
    app = DispatchApp(
        title="jogo-dispatch",
        version=__version__,
        description="Geospatial dispatch engine for police command centres: officer GPS, H3 "
        "nearest-responder search, citizen reports, dispatch and a live map.",
        lifespan=lifespan,
        responses=ERROR_RESPONSES,
        docs_url=None,  # home.install serves Swagger UI from a registry package, not a CDN
        redoc_url=None,
    )
    app.state.settings = settings
    error_handlers.install_handlers(app, flat={OPEN311_PREFIX: open311_error})
    app.add_middleware(IdempotencyMiddleware)
    # A report carries its photo: that one path may send more than the rest.
    report_bytes = max(settings.max_body_bytes, settings.photo_max_bytes + REPORT_FORM_FIELDS_BYTES)
    app.add_middleware(
        BodyLimitMiddleware,
        default=settings.max_body_bytes,
        limits={
            "/api/v1/reports": report_bytes,
            # an Open311 client may upload its photos beside the fields (the first one is kept)
            **{f"{OPEN311_PREFIX}/requests.{ext}": OPEN311_PHOTOS * report_bytes for ext in ("json", "xml")},
        },
        # an agency's note may carry a photo
        patterns={forward_forms.NOTE_PATH_PATTERN: forward_forms.note_body_limit(settings)},
    )
    app.add_middleware(MetricsMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)  # outermost: also on answers the other layers make
    for router in (
        ops_router,
        accounts_router,
        tracking_router,
        officers_admin_router,
        alerts_router,
        phones_router,
        stream_router,
        live_router,
        live_page_router,
        responders_router,
        agencies_router,
        catalogue_admin_router,
        abuse_router,
        webapp_router,
        agency_page_router,
        reports_router,
        intake_router,
        dispatch_router,
        desk_router,
        plans_router,
        forwards_router,
        open311_router,
        open311_discovery_router,
        open311_staff_router,
        api_keys_router,
        rewards_router,
        admin_router,
    ):
        app.include_router(router)
    home.install(app)
    return app
