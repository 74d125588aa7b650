from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


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
