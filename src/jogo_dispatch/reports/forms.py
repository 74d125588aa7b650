"""How a report arrives over HTTP: JSON, or a form (multipart with an optional photo), plus the device it
came from. Shared by the route that files reports (dispatch.intake_router) and the body limit (main)."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from jogo_dispatch.errors import InvalidInput
from jogo_dispatch.platform.body_limit import parse_json, read_body
from jogo_dispatch.reports import photos
from jogo_dispatch.reports.schemas import ReportIn
from jogo_dispatch.settings import Settings

FORM_FIELDS_BYTES = 64 * 1024  # room for the text fields next to the photo in a multipart body
# Forms send an empty string for an optional field left blank.
OPTIONAL_FIELDS = frozenset({"address", "reporter_accuracy_m"})

# The request body of ``POST /reports`` as OpenAPI tells it (the route reads the body itself).
REPORT_BODY_OPENAPI: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": ReportIn.model_json_schema()},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["category", "description", "lat", "lon", "reporter_lat", "reporter_lon"],
                    "properties": {
                        **{k: {"type": "string"} for k in ReportIn.model_fields},
                        "photo": {"type": "string", "format": "binary", "description": "JPEG or PNG"},
                    },
                }
            },
        },
    }
}


def device(request: Request) -> tuple[str | None, str | None, str | None]:
    """(X-Device-Id, User-Agent, client address) of the request."""
    client = request.client.host if request.client else None
    return request.headers.get("x-device-id"), request.headers.get("user-agent"), client


def _validate(data: Any) -> ReportIn:
    try:
        return ReportIn.model_validate(data)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from None


async def _form(request: Request, body: bytes) -> tuple[dict[str, Any], bytes | None]:
    async def replay() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    form = await Request(request.scope, replay).form(
        max_files=1, max_fields=20, max_part_size=FORM_FIELDS_BYTES
    )
    try:
        fields: dict[str, Any] = {}
        photo: bytes | None = None
        for key, value in form.multi_items():
            if key == "photo":
                if not isinstance(value, UploadFile):
                    raise photos.bad_photo("photo must be a file part", "not_a_file")
                photo = await value.read()
            elif isinstance(value, str):
                fields[key] = None if value == "" and key in OPTIONAL_FIELDS else value
            else:
                raise InvalidInput(f"unexpected file in field {key!r}", code="bad_body")
        return fields, photo
    finally:
        await form.close()


async def read_report(request: Request, settings: Settings) -> tuple[ReportIn, photos.Photo | None]:
    """The report in the request body (JSON or form) and its photo, validated."""
    body = await read_body(request, settings.photo_max_bytes + FORM_FIELDS_BYTES)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    photo_bytes: bytes | None = None
    if content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        fields, photo_bytes = await _form(request, body)
    elif content_type in ("application/json", ""):
        fields = parse_json(body)
    else:
        raise InvalidInput(
            "send application/json or a form (multipart/form-data for a photo)", code="unsupported_media_type"
        )
    data = _validate(fields)
    photo = None
    if photo_bytes is not None:
        photo = await asyncio.to_thread(
            photos.validate, photo_bytes, settings.photo_max_bytes, settings.photo_max_pixels
        )
    return data, photo
