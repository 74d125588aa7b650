from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    role: str


class UserCreate(BaseModel):
    username: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@+-]+$")
    password: str = Field(min_length=6, max_length=200)
    role: Literal["citizen", "officer", "dispatcher", "agency", "admin"]
    full_name: str | None = Field(None, max_length=200)


class UserOut(BaseModel):
    id: int
    username: str
    role: str
    full_name: str | None
    is_active: bool
    created_at: datetime


class MeOut(BaseModel):
    user_id: int
    role: str
    officer_id: int | None
    username: str | None = None
    full_name: str | None = None
    duty_status: str | None = None  # officers only


class UserAdminOut(UserOut):
    """A login as the admin console lists it."""

    phone: str | None
    officer_id: int | None = None
    officer_badge: str | None = None


class UsersPageOut(BaseModel):
    total: int
    items: list[UserAdminOut]


STAFF_ROLES = ("dispatcher", "admin")


class UserPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["dispatcher", "admin"] | None = Field(
        None, description="staff logins only: officers, agency logins and citizens keep their role"
    )
    full_name: str | None = Field(None, max_length=200)
    is_active: bool | None = Field(None, description="false: the login is refused and its tokens revoked")
    reason: str | None = Field(None, max_length=500)


class PasswordResetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: str | None = Field(None, min_length=6, max_length=200, description="unset: one is generated")


class PasswordResetOut(BaseModel):
    user_id: int
    username: str
    password: str = Field(description="the new password (this answer only); every older token is revoked")
