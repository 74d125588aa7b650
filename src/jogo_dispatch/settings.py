"""Every setting of the service, read from ``JOGO_*`` environment variables (or a ``.env`` file)."""

from __future__ import annotations

import ipaddress
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

import phonenumbers
from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# Keys this project once printed as defaults: known to everyone, so never accepted outside development.
DEV_SECRET = "dev-only-insecure-signing-key-change-me"
KNOWN_KEYS = frozenset({DEV_SECRET})


def _comma_list(v: object) -> list[str] | None:
    """A list setting as the environment gives it ("a, b") or as code passes it; None: neither."""
    items = v.split(",") if isinstance(v, str) else v
    if not isinstance(items, list | tuple):
        return None
    return [s for s in (str(item).strip() for item in items) if s]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="JOGO_", env_file=".env", extra="ignore")

    # --- deployment
    env: Literal["development", "production", "test"] = "development"
    database_url: str | None = Field(
        default=None, description="postgresql:// URL; unset = project-managed PostGIS under data_dir"
    )
    data_dir: Path = Path(".data")
    secret_key: str | None = Field(
        None,
        description="JWT signing key (32+ random characters); unset outside production = a random key "
        "generated once and kept in data_dir/signing.key",
    )
    log_level: str = "INFO"
    log_json: bool = True
    db_pool_size: int = 10
    exit_with_parent: bool = Field(
        False,
        description="stop when the process that started this one dies (set by serve --workers and by run)",
    )
    supervisor_pid: int | None = Field(
        None,
        description="the process exit_with_parent watches (set by serve --workers and by run); "
        "default: the parent when the worker started",
    )
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="reverse proxies (addresses or networks, comma-separated) whose X-Forwarded-For and "
        "X-Forwarded-Proto are believed; empty = none: the connecting address is the client",
    )

    # --- auth
    access_token_ttl_s: int = 12 * 3600
    auth_cache_ttl_s: float = Field(
        60.0, description="how long a checked token is trusted before re-checking"
    )
    jwt_algorithm: str = "HS256"
    login_limit_window_s: int = Field(900, gt=0, description="window of the failed-login limits")
    login_limit_per_user: int = Field(
        5,
        ge=0,
        description="failed logins per window for one username, after "
        "which it is refused until the window ends (0 = no limit)",
    )
    login_limit_per_ip: int = Field(50, ge=0, description="failed logins per window from one client address")
    phone_regions: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["ID"],
        description="countries (ISO 3166 codes, comma-separated) whose mobile numbers citizens may sign up "
        "with; a number typed without +country is read as one of the first",
    )

    # --- ingest filters
    max_batch: int = Field(1000, description="most pings in one POST /api/v1/pings body")
    max_body_bytes: int = 2_000_000
    future_tolerance_s: float = Field(120.0, description="reject pings recorded further in the future")
    retention_days: int = Field(90, description="pings older than this are rejected and partitions dropped")
    max_speed_mps: float = Field(
        70.0, description="implied speed from the previous fix above this is rejected"
    )
    max_accuracy_m: float = Field(500.0, description="reject fixes whose accuracy radius is worse")
    partitions_ahead_days: int = 3

    # --- writer
    writer_max_batch: int = 5000
    # A second connection commits a backlog while the first is busy, or half a burst beside it (a light
    # load still goes one commit at a time; see tracking.writer.PingWriter): bursts are acknowledged
    # sooner and batched ingest goes faster, for a little more CPU per ping (smaller commits).
    writer_connections: int = Field(
        2,
        ge=1,
        le=16,
        description="connections group-committing pings at once (one commit overlaps the next)",
    )

    # --- officers / search
    # Presence: online, then stale (dispatchable, ranked with an ETA penalty for the age of the fix), then
    # offline (not dispatchable). Traccar Client's default (a fix every 300 s) and OwnTracks' significant-
    # changes mode stay dispatchable.
    stale_after_s: float = Field(120.0, gt=0, description="no fix for longer: stale")
    offline_after_s: float = Field(900.0, gt=0, description="no fix for longer: offline, never dispatched")
    stale_eta_factor: float = Field(
        0.5, ge=0, description="a stale responder's ETA grows by this many seconds per second of age"
    )
    low_battery_pct: float = 15.0
    presence_sweep_s: float = Field(2.0, description="how often online/offline is re-evaluated (0 = never)")
    osmand_port: int | None = Field(5055, description="second port serving OsmAnd on / (Traccar's default)")
    osmand_host: str = "127.0.0.1"
    detour_factor: float = 1.35
    speed_car_mps: float = 11.1
    speed_motorbike_mps: float = 9.7
    speed_foot_mps: float = 1.4

    # --- live map
    live_coalesce_s: float = 0.5
    live_queue_max: int = 2000
    # permessage-deflate on websockets. Off: it compressed each live-map message once per client and was
    # the largest single cost of the feed (50 maps: 17 % of the server's CPU); a map on the command
    # centre's network needs ~10 KB/s without it. On for clients on metered links.
    ws_compression: bool = False
    tile_url: str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    timezone: str = "Asia/Jakarta"
    pubsub: Literal["memory", "postgres"] = "memory"

    # --- agencies
    region: str = Field("malang", description="region pack this deployment serves (malang, cilacap)")
    route_hospitals: int = Field(
        3, ge=0, le=20, description="nearest hospitals listed when someone may be hurt"
    )
    strikes_to_block: int = Field(
        3, ge=1, description="false reports after which a citizen's account is blocked"
    )

    # --- reports / dispatch
    duplicate_radius_m: float = Field(
        300.0, gt=0, description="a report this close to an open incident of its category is linked to it"
    )
    duplicate_window_s: float = Field(
        3600.0, gt=0, description="... if that incident was received this recently"
    )
    offer_timeout_s: float = Field(
        60.0, gt=0, description="an unanswered offer goes to the next nearest officer"
    )
    offer_max_attempts: int = Field(
        3, ge=1, description="offers per dispatch before an offer_exhausted alert"
    )
    offer_sweep_s: float = Field(1.0, ge=0, description="how often overdue offers are claimed (0 = never)")
    # --- officer safety and queue timers (a response plan may set its own welfare interval)
    welfare_interval_s: float = Field(1800.0, gt=0, description="on scene this long: a check on the phone")
    welfare_grace_s: float = Field(120.0, gt=0, description="no answer to the check within: an alert")
    en_route_within_s: float = Field(300.0, gt=0, description="dispatched, not en route within: an alert")
    verify_within_s: float = Field(600.0, gt=0, description="a report unverified for longer: an alert")
    timer_sweep_s: float = Field(5.0, ge=0, description="how often the timers are checked (0 = never)")
    assignment_cutoff_s: float = Field(
        1800.0, gt=0, description="batch assignment ignores officers with a longer ETA"
    )
    sos_nearest_k: int = Field(5, ge=1, le=100, description="nearest responders computed for an SOS")
    photo_max_bytes: int = Field(5_000_000, gt=0, description="largest report photo")
    photo_max_pixels: int = Field(40_000_000, gt=0, description="largest report photo in pixels (w x h)")

    # --- forwards / rewards / open311
    forward_sweep_s: float = Field(
        1.0,
        ge=0,
        description="how often due webhook deliveries and overdue "
        "acknowledgements are looked for (0 = not in this process)",
    )
    forward_max_attempts: int = Field(8, ge=1, description="webhook attempts before a forward is failed")
    forward_backoff_base_s: float = Field(
        10.0, gt=0, description="wait after the first failed attempt; doubles after each further failure"
    )
    forward_backoff_max_s: float = Field(900.0, gt=0, description="longest wait between two attempts")
    forward_timeout_s: float = Field(10.0, gt=0, description="timeout of one webhook request")
    forward_ack_timeout_s: float = Field(
        600.0,
        gt=0,
        description="a forward not acknowledged this long "
        "after it was made raises a forward_unacknowledged alert (once)",
    )
    forward_webhook_secret: str | None = Field(
        None, description="signs webhook bodies (X-Jogo-Signature: sha256=HMAC) when set"
    )
    cap_sender: str = Field("jogo-dispatch", description="CAP <sender>; also prefixes alert identifiers")
    cap_sender_name: str = Field("Command centre", description="CAP <senderName>")
    cap_radius_km: float = Field(0.5, gt=0, description="radius of the CAP <circle> around an incident")
    ratelimit_backend: Literal["postgres", "memory", "redis"] = Field(
        "postgres", description="where rate-limit counters live (memory: this process only)"
    )
    ratelimit_redis_url: str = "redis://127.0.0.1:6379/0"
    report_limit_window_s: int = Field(3600, gt=0, description="rate-limit window of POST /reports")
    report_limit_per_account: int = Field(20, ge=0, description="reports per window per account (0 = none)")
    report_limit_per_device: int = Field(30, ge=0, description="reports per window per device (0 = no limit)")
    sos_limit_window_s: int = Field(600, gt=0, description="rate-limit window of POST /sos")
    sos_limit_per_account: int = Field(30, ge=0, description="SOS presses per window per account")
    sos_limit_per_device: int = Field(60, ge=0, description="SOS presses per window per device")
    sos_limit_blocked_per_account: int = Field(
        3,
        ge=0,
        description="SOS presses per window of an account blocked for false reports (its SOS still reaches "
        "the dispatchers, marked with its record; 0 = no limit beyond the others)",
    )
    open311_limit_per_key: int = Field(
        500, ge=0, description="anonymous Open311 requests per report window per API key"
    )
    reward_points_default: int = Field(10, ge=0, description="points for a verified report")
    reward_points: dict[str, int] = Field(
        default_factory=lambda: {
            "fire": 20,
            "medical": 20,
            "traffic_accident": 15,
            "crime": 15,
            "flood_landslide": 15,
        },
        description="points per category for a verified report (JSON); others get reward_points_default",
    )
    open311_agency_name: str = Field(
        "Command centre", description="Open311 agency_responsible before any forward"
    )
    public_url: str | None = Field(
        None,
        pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$",
        description="the address officers' phones reach this server at (http(s)://host[:port][/path]), used "
        "in the phone set-up links and QR codes of the admin console; unset = the address the admin's "
        "browser used",
    )

    @field_validator("osmand_port", mode="before")
    @classmethod
    def _empty_port_disables(cls, v: object) -> object:
        return None if v in ("", "0", 0, "off", "none") else v

    @property
    def online_after_s(self) -> float:
        """Dispatchable while the last fix is younger than this (online or stale)."""
        return self.offline_after_s

    @field_validator("phone_regions", mode="before")
    @classmethod
    def _regions(cls, v: object) -> object:
        codes = _comma_list(v)
        if codes is None:
            return v
        codes = [c.upper() for c in codes]
        if not codes:
            raise ValueError("phone_regions needs at least one country code, e.g. ID")
        unknown = [c for c in codes if c not in phonenumbers.SUPPORTED_REGIONS]
        if unknown:
            raise ValueError(f"phone_regions: unknown country codes {unknown} (ISO 3166 alpha-2, e.g. ID)")
        return codes

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _proxies(cls, v: object) -> object:
        proxies = _comma_list(v)
        if proxies is None:
            return v
        for proxy in proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise ValueError(f"trusted_proxies: {proxy!r} is not an address or network") from None
        return proxies

    @field_validator("secret_key", mode="before")
    @classmethod
    def _empty_key_is_unset(cls, v: object) -> object:
        return None if isinstance(v, str) and not v.strip() else v

    @model_validator(mode="after")
    def _stale_before_offline(self) -> Settings:
        if self.offline_after_s < self.stale_after_s:
            raise ValueError("JOGO_OFFLINE_AFTER_S must not be shorter than JOGO_STALE_AFTER_S")
        return self

    @model_validator(mode="after")
    def _production_needs_a_real_key(self) -> Settings:
        key = self.secret_key
        weak = key is None or key in KNOWN_KEYS or len(key) < 32 or len(set(key)) < 8
        if self.env == "production" and weak:
            raise ValueError("JOGO_SECRET_KEY must be set to a random value of 32+ characters in production")
        if self.env != "development" and key in KNOWN_KEYS:
            raise ValueError("JOGO_SECRET_KEY is a published default key: set a random one")
        return self

    @cached_property
    def speeds_mps(self) -> dict[str, float]:
        return {
            "car": self.speed_car_mps,
            "motorbike": self.speed_motorbike_mps,
            "foot": self.speed_foot_mps,
        }

    def sqlalchemy_url(self) -> str:
        if not self.database_url:
            raise RuntimeError("no database configured")
        return to_sqlalchemy_url(self.database_url)


def to_sqlalchemy_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs (what people paste) and pick the psycopg 3 driver."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    raise ValueError(f"not a PostgreSQL URL: {url!r}")


def to_libpq_url(url: str) -> str:
    for prefix in ("postgresql+psycopg://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix) :]
    return url
