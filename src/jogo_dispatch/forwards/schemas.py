from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, UrlConstraints, field_validator

from jogo_dispatch.platform.db import Id

Text = Field(min_length=1, max_length=4000)


class ForwardIn(BaseModel):
    """Without ``agency_ids`` the incident goes to its routing targets (responsible, always-notify and, when
    someone may be hurt, the nearest hospitals)."""

    model_config = ConfigDict(extra="forbid")

    agency_ids: list[Id] | None = Field(None, max_length=50, description="forward to these agencies only")
    note: str | None = Field(None, max_length=4000, description="for the agencies")
    injured: bool | None = Field(
        None, description="someone is hurt (adds hospitals); default: what the incident's reports said"
    )


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Text


class CloseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(None, max_length=4000)


class AgencyUserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@+-]+$")
    password: str = Field(min_length=6, max_length=200)
    full_name: str | None = Field(None, max_length=200)


WEBHOOK_URL_MAX = 500  # agencies.webhook_url is a varchar(500)


class DeliveryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    delivery: Literal["inbox", "webhook", "both"]
    webhook_url: Annotated[HttpUrl, UrlConstraints(max_length=WEBHOOK_URL_MAX)] | None = None

    @field_validator("webhook_url")
    @classmethod
    def _fits_once_normalised(cls, v: HttpUrl | None) -> HttpUrl | None:
        # The limit above is on the text sent; what is stored is the normalised URL (a "/" path added,
        # international host names in punycode), which can be longer.
        if v is not None and len(str(v)) > WEBHOOK_URL_MAX:
            raise ValueError(f"webhook_url is longer than {WEBHOOK_URL_MAX} characters once normalised")
        return v
