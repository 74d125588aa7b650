"""Password hashing (argon2), access tokens (JWT) and device tokens. Pure: no DB, no FastAPI."""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from jogo_dispatch.errors import Unauthorized

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
    def __init__(self, secret: str, ttl_s: int, algorithm: str = "HS256") -> None:
        self._secret = secret
        self._ttl_s = ttl_s
        self._algorithm = algorithm

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
        try:
            claims = jwt.decode(
                token, self._secret, algorithms=[self._algorithm], options={"require": ["exp"]}
            )
            return Principal(
                user_id=int(claims["sub"]),
                role=str(claims["role"]),
                officer_id=claims.get("oid"),
                token_version=int(claims.get("ver", 0)),
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("token expired", code="token_expired") from None
        except (jwt.PyJWTError, KeyError, ValueError, TypeError):
            raise Unauthorized("invalid token", code="invalid_token") from None


def new_device_token() -> str:
    return DEVICE_TOKEN_PREFIX + secrets.token_urlsafe(32)


def device_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
