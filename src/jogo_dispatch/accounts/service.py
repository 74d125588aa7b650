"""Accounts: users, login, and turning a bearer token into a Principal."""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from jogo_dispatch.accounts import repository as repo
from jogo_dispatch.accounts.models import ROLES, User
from jogo_dispatch.accounts.phones import DEFAULT_REGION, normalise_phone
from jogo_dispatch.errors import Conflict, InvalidInput, Unauthorized
from jogo_dispatch.platform.security import (
    DEVICE_TOKEN_PREFIX,
    Passwords,
    Principal,
    Tokens,
    device_token_hash,
)


async def create_user(
    session: AsyncSession,
    passwords: Passwords,
    *,
    username: str,
    password: str,
    role: str,
    full_name: str | None = None,
    phone: str | None = None,
) -> User:
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}", code="bad_role")
    if len(password) < 6:
        raise InvalidInput("password must have at least 6 characters", code="weak_password")
    user = User(
        username=username, password_hash=passwords.hash(password), role=role, full_name=full_name, phone=phone
    )
    try:
        async with session.begin_nested():
            session.add(user)
            await session.flush()
    except IntegrityError:
        raise Conflict(f"user {username!r} or phone already exists", code="user_exists") from None
    return user


async def login(
    session: AsyncSession,
    passwords: Passwords,
    username: str,
    password: str,
    phone_region: str = DEFAULT_REGION,
) -> Principal:
    user = await repo.user_by_username(session, username)
    if user is None:
        # Citizens log in with their phone number however they type it (0812..., +62 812...).
        with contextlib.suppress(ValueError):
            user = await repo.user_by_username(session, normalise_phone(username, phone_region))
    if not passwords.verify(user.password_hash if user else None, password) or user is None:
        raise Unauthorized("wrong username or password", code="bad_credentials")
    if not user.is_active:
        raise Unauthorized("account disabled", code="account_disabled")
    officer_id = await repo.officer_id_for_user(session, user.id) if user.role == "officer" else None
    return Principal(user.id, user.role, officer_id, user.token_version)


async def revoke_tokens(session: AsyncSession, user: User) -> None:
    user.token_version += 1
    await session.flush()


@dataclass(frozen=True, slots=True)
class UserState:
    """What a token's user is now, as stored: the authority for every token of theirs."""

    active: bool
    token_version: int
    role: str
    officer_id: int | None


class Authenticator:
    """Checks bearer tokens. JWTs are verified offline, then against the user's revocation counter
    (cached ``cache_ttl_s``); device tokens against an in-memory table of every active device, loaded
    at start-up and reloaded every ``DEVICE_RELOAD_S`` (a phone's first request must not cost a database
    round trip: with 100,000 phones nearly every request is some phone's first in a while). A
    revocation reaches every process through the ``credentials_changed`` event (relayed when a pub/sub
    backend is configured), and at the latest with the next reload."""

    DEVICE_RELOAD_S = 30.0

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        tokens: Tokens,
        passwords: Passwords,
        cache_ttl_s: float = 60.0,
    ):
        self._sessions = sessions
        self._tokens = tokens
        self._passwords = passwords
        self._ttl = cache_ttl_s
        self._users: dict[int, tuple[float, UserState]] = {}
        self._devices: dict[str, tuple[float, Principal | None]] = {}
        self._basic: dict[str, tuple[float, Principal]] = {}
        self._device_table: dict[str, Principal] = {}

    def forget(self) -> None:
        """Drop every cached credential (tests, and as the blunt fallback)."""
        self._users.clear()
        self._devices.clear()
        self._basic.clear()
        self._device_table = {}

    def credentials_changed(self, device_id: int | None = None) -> None:
        """A token was revoked somewhere: drop what may now be stale."""
        self._users.clear()
        self._basic.clear()
        self._devices.clear()
        if device_id is not None:
            self._device_table = {k: p for k, p in self._device_table.items() if p.device_id != device_id}

    async def load_devices(self) -> int:
        async with self._sessions() as session:
            rows = await repo.active_device_principals(session)
        self._device_table = {
            token_hash: Principal(user_id or 0, "officer", officer_id, device_id=device_id)
            for token_hash, device_id, officer_id, user_id in rows
        }
        return len(self._device_table)

    async def basic(self, username: str, password: str) -> Principal:
        """HTTP Basic credentials, as phone apps send them on every request: either the login's
        password, or a device token as the password. Successful argon2 checks are cached (by a hash
        of the pair) so a phone posting every few seconds costs one argon2 run per cache period."""
        if password.startswith(DEVICE_TOKEN_PREFIX):
            return await self._device_principal(password)
        known = self.known_basic(username, password)
        if known is not None:
            return known
        async with self._sessions() as session:
            principal = await login(session, self._passwords, username, password)
        self._basic[self._basic_key(username, password)] = (time.monotonic() + 60 * self._ttl, principal)
        return principal

    def known_basic(self, username: str, password: str) -> Principal | None:
        """These Basic credentials passed the password check a moment ago (nothing is being guessed)."""
        hit = self._basic.get(self._basic_key(username, password))
        return hit[1] if hit is not None and hit[0] > time.monotonic() else None

    @staticmethod
    def _basic_key(username: str, password: str) -> str:
        return device_token_hash(f"{username}\x00{password}")

    async def principal(self, token: str | None) -> Principal:
        if not token:
            raise Unauthorized()
        if token.startswith(DEVICE_TOKEN_PREFIX):
            return await self._device_principal(token)
        p = self._tokens.decode(token)
        state = await self._user_state(p.user_id)
        if not state.active or state.token_version != p.token_version:
            raise Unauthorized("token revoked", code="token_revoked")
        return _as_stored(p, state)

    def known(self, token: str) -> Principal | None:
        """The principal of a valid ``token`` when memory alone decides it (a device token in the table,
        a JWT whose user is cached); None when only :meth:`principal` can tell, by a database look-up or
        with the error to answer. For a hot path that answers a known caller without the framework."""
        if token.startswith(DEVICE_TOKEN_PREFIX):
            key = device_token_hash(token)
            table = self._device_table.get(key)
            if table is not None:
                return table
            hit = self._devices.get(key)
            return hit[1] if hit is not None and hit[0] > time.monotonic() else None
        try:
            p = self._tokens.decode(token)
        except Unauthorized:
            return None
        cached = self._users.get(p.user_id)
        if cached is None or cached[0] <= time.monotonic():
            return None
        state = cached[1]
        if not state.active or state.token_version != p.token_version:
            return None
        return _as_stored(p, state)

    async def _user_state(self, user_id: int) -> UserState:
        now = time.monotonic()
        hit = self._users.get(user_id)
        if hit and hit[0] > now:
            return hit[1]
        async with self._sessions() as session:
            user = await repo.user_by_id(session, user_id)
            officer_id = await repo.officer_id_for_user(session, user_id) if user is not None else None
        state = (
            UserState(user.is_active, user.token_version, user.role, officer_id)
            if user is not None
            else UserState(False, -1, "", None)
        )
        self._users[user_id] = (now + self._ttl, state)
        return state

    async def _device_principal(self, token: str) -> Principal:
        key = device_token_hash(token)
        known = self._device_table.get(key)
        if known is not None:
            return known
        now = time.monotonic()
        hit = self._devices.get(key)
        if hit is None or hit[0] <= now:
            async with self._sessions() as session:
                found = await repo.active_device_by_token_hash(session, key)
            principal = None
            if found is not None:
                device, user = found
                if user is None or user.is_active:
                    principal = Principal(
                        user.id if user else 0, "officer", device.officer_id, device_id=device.id
                    )
            # Unknown tokens are re-checked soon: a device registered in another process must work quickly.
            hit = (now + (self._ttl if principal else 2.0), principal)
            self._devices[key] = hit
        if hit[1] is None:
            raise Unauthorized("unknown or revoked device token", code="invalid_token")
        return hit[1]


def _as_stored(p: Principal, state: UserState) -> Principal:
    # The token names the user; what the user may do is what is stored now (role, officer link), never
    # the claims: a token that says admin, or another officer's id, gains nothing by it.
    return Principal(p.user_id, state.role, state.officer_id, token_version=p.token_version)
