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


async def form_fields(
    request: Request,
    body: bytes,
    *,
    max_fields: int = 20,
    optional: frozenset[str] = frozenset(),
    max_part_size: int = FORM_FIELDS_BYTES,
) -> tuple[dict[str, Any], bytes | None]:
    """The text fields of a form body and its one ``photo`` file part (None without one). A blank field
    named in ``optional`` is None. Shared with the agencies' notes (``forwards.forms``)."""

    async def replay() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    form = await Request(request.scope, replay).form(
        max_files=1, max_fields=max_fields, max_part_size=max_part_size
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
                fields[key] = None if value == "" and key in optional else value
            else:
                raise InvalidInput(f"unexpected file in field {key!r}", code="bad_body")
        return fields, photo
    finally:
        await form.close()


async def body_fields(request: Request, limit: int, **form: Any) -> tuple[Any, bytes | None]:
    """The request's fields, JSON or a form (``form_fields`` with ``form``), read within ``limit`` bytes,
    and the form's photo bytes (None: no photo)."""
    body = await read_body(request, limit)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        return await form_fields(request, body, **form)
    if content_type in ("application/json", ""):
        return parse_json(body), None
    raise InvalidInput(
        "send application/json or a form (multipart/form-data for a photo)", code="unsupported_media_type"
    )


async def checked_photo(settings: Settings, data: bytes | None) -> photos.Photo | None:
    """The photo validated (off the event loop), or None without one."""
    if data is None:
        return None
    return await asyncio.to_thread(photos.validate, data, settings.photo_max_bytes, settings.photo_max_pixels)


async def read_report(request: Request, settings: Settings) -> tuple[ReportIn, photos.Photo | None]:
    """The report in the request body (JSON or form) and its photo, validated."""
    fields, photo_bytes = await body_fields(
        request, settings.photo_max_bytes + FORM_FIELDS_BYTES, optional=OPTIONAL_FIELDS
    )
    return _validate(fields), await checked_photo(settings, photo_bytes)
