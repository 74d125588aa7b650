"""API keys of Open311 clients: made once (only a hash is stored), listed, revoked, checked on each request;
and the names of the citizen accounts a key files as."""

from __future__ import annotations

import hashlib
import re
import secrets

from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.errors import Forbidden, InvalidInput, NotFound
from jogo_dispatch.open311 import repository as repo
from jogo_dispatch.open311.models import ApiKey
from jogo_dispatch.platform import audit
from jogo_dispatch.platform.db import utcnow

KEY_PREFIX = "o311_"
_ANONYMOUS = re.compile(r"^o311-\d+$")


def account_username(key_id: int, identity: str | None = None) -> str:
    """``o311-<key id>``: the key's anonymous account; ``o311-<key id>-<hash>``: one person filing with it."""
    if identity is None:
        return f"o311-{key_id}"
    return f"o311-{key_id}-{hashlib.sha256(identity.encode()).hexdigest()[:24]}"


def is_anonymous_account(username: str) -> bool:
    """An API key's account for requests that name nobody (it earns no reward points)."""
    return bool(_ANONYMOUS.match(username))


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


async def create_api_key(
    session: AsyncSession, label: str, actor_id: int | None = None
) -> tuple[ApiKey, str]:
    """A new key (returned once: only its hash is stored); audited (entity ``api_key``, never the key)."""
    label = label.strip()
    if not 1 <= len(label) <= 100:
        raise InvalidInput("the label needs 1 to 100 characters", code="bad_label")
    key = KEY_PREFIX + secrets.token_urlsafe(24)
    row = ApiKey(key_hash=key_hash(key), prefix=key[:12], label=label)
    session.add(row)
    await session.flush()
    audit.record(
        session, "api_key", row.id, "created", actor_id=actor_id, data={"label": label, "prefix": row.prefix}
    )
    return row, key


async def api_keys(session: AsyncSession) -> list[ApiKey]:
    return await repo.api_keys(session)


async def revoke_api_key(session: AsyncSession, key_id: int, actor_id: int | None = None) -> ApiKey:
    """Revoke a key (again: unchanged, not audited twice); audited."""
    row = await session.get(ApiKey, key_id, with_for_update=True)
    if row is None:
        raise NotFound(f"API key {key_id} not found", code="api_key_not_found")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        await session.flush()
        audit.record(
            session,
            "api_key",
            row.id,
            "revoked",
            actor_id=actor_id,
            data={"label": row.label, "prefix": row.prefix},
        )
    return row


async def authenticate(session: AsyncSession, key: str | None) -> ApiKey:
    if not key:
        raise Forbidden("api_key is required", code="api_key_required")
    row = await repo.api_key_by_hash(session, key_hash(key))
    if row is None or row.revoked_at is not None:
        raise Forbidden("invalid api_key", code="bad_api_key")
    row.last_used_at = utcnow()
    return row
