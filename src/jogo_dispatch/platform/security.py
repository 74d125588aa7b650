"""Password hashing (argon2), access tokens (JWT), device tokens, and the token check of websockets
(browsers cannot set headers on them). No database here: who a token belongs to is ``Authenticates``."""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import jwt
import orjson
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import WebSocket, WebSocketDisconnect

from jogo_dispatch.errors import AppError, Forbidden, Unauthorized

DEVICE_TOKEN_PREFIX = "jdt_"


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: int
    role: str
    officer_id: int | None = None
    token_version: int = 0
    device_id: int | None = None


class Passwords:
    def __init__(self, fast: bool = False) -> None:
        # The fast profile is for the test suite only (still argon2id, just cheaper).
        self._hasher = (
            PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1) if fast else PasswordHasher()
        )
        self._dummy = self._hasher.hash("timing-equaliser")

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash or self._dummy, password) and password_hash is not None
        except (VerificationError, InvalidHashError):
            return False


class Tokens:
    # Verified tokens kept until they expire: checking a JWT's signature costs about 100 µs, more than
    # most requests' own work. Bounded (emptied when full); a revoked token is still refused by the
    # caller's user-state check, which this cache does not replace.
    DECODED_MAX = 20_000

    def __init__(self, secret: str, ttl_s: int, algorithm: str = "HS256") -> None:
        self._secret = secret
        self._ttl_s = ttl_s
        self._algorithm = algorithm
        self._decoded: dict[str, tuple[float, Principal]] = {}

    def issue(self, p: Principal) -> tuple[str, int]:
        now = int(time.time())
        claims = {
            "sub": str(p.user_id),
            "role": p.role,
            "ver": p.token_version,
            "iat": now,
            "exp": now + self._ttl_s,
            "jti": uuid.uuid4().hex,
        }
        if p.officer_id is not None:
            claims["oid"] = p.officer_id
        return jwt.encode(claims, self._secret, algorithm=self._algorithm), self._ttl_s

    def decode(self, token: str) -> Principal:
        hit = self._decoded.get(token)
        if hit is not None and hit[0] > time.time():  # PyJWT's own rule: valid while now < exp
            return hit[1]
        try:
            claims = jwt.decode(
                token, self._secret, algorithms=[self._algorithm], options={"require": ["exp"]}
            )
            p = Principal(
                user_id=int(claims["sub"]),
                role=str(claims["role"]),
                officer_id=claims.get("oid"),
                token_version=int(claims.get("ver", 0)),
            )
            expires = float(claims["exp"])
        except jwt.ExpiredSignatureError:
            raise Unauthorized("token expired", code="token_expired") from None
        except (jwt.PyJWTError, KeyError, ValueError, TypeError):
            raise Unauthorized("invalid token", code="invalid_token") from None
        if len(self._decoded) >= self.DECODED_MAX:
            self._decoded.clear()
        self._decoded[token] = (expires, p)
        return p


SIGNING_KEY_FILE = "signing.key"


def signing_key(secret_key: str | None, data_dir: Path) -> str:
    """``JOGO_SECRET_KEY``, or (where settings allow none: not in production) a random key made once and
    kept in ``data_dir`` readable by this user only, so every process of this deployment, and the next
    start, signs with the same key and nobody else knows it."""
    if secret_key:
        return secret_key
    path = data_dir.resolve() / SIGNING_KEY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_text().strip()
        if len(key) < 32:
            raise RuntimeError(f"{path} holds no usable signing key: delete it to make a new one") from None
        return key
    key = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w") as f:
        f.write(key + "\n")
    return key


def new_device_token() -> str:
    return DEVICE_TOKEN_PREFIX + secrets.token_urlsafe(32)


def device_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Authenticates(Protocol):
    """Who a bearer token (a JWT or a device token) belongs to; Unauthorized when nobody."""

    async def principal(self, token: str | None) -> Principal: ...


async def websocket_principal(
    ws: WebSocket, auth: Authenticates, *roles: str, timeout_s: float = 10.0
) -> Principal:
    """Browsers cannot set headers on websockets: the token comes as ``?token=`` or as a first
    ``{"type": "auth", "token": ...}`` message. Raises Unauthorized/Forbidden; the caller closes."""
    token = ws.query_params.get("token")
    if not token:
        header = ws.headers.get("authorization", "")
        token = header[7:] if header.lower().startswith("bearer ") else None
    if not token:
        try:
            first = await asyncio.wait_for(ws.receive(), timeout_s)
            # A binary frame, a disconnect or anything but {"type": "auth", "token": "<string>"}: no token.
            msg = orjson.loads(first["text"]) if first.get("text") is not None else None
            candidate = msg.get("token") if isinstance(msg, dict) and msg.get("type") == "auth" else None
            token = candidate if isinstance(candidate, str) else None
        except (TimeoutError, orjson.JSONDecodeError):
            token = None
    principal = await auth.principal(token)
    if roles and principal.role not in roles:
        raise Forbidden(f"this needs one of the roles: {', '.join(roles)}", code="wrong_role")
    return principal


async def receive_text(ws: WebSocket) -> str | None:
    """The next text frame; None for a binary one (our protocols are JSON text: the caller answers with an
    error and goes on). Raises ``WebSocketDisconnect`` when the client is gone."""
    message = await ws.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
    text = message.get("text")
    return text if isinstance(text, str) else None


BINARY_FRAME = {"code": "binary_frame", "message": "send JSON as text frames"}


def ws_close_code(exc: AppError) -> int:
    """401 → 4401, 503 (database away) → 1013 "try again later", anything else → 4403."""
    return {401: 4401, 503: 1013}.get(exc.status_code, 4403)
