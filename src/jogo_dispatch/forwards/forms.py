"""How an agency's note arrives over HTTP: JSON ``{"text"}``, or a form (multipart with an optional ``photo``,
read and checked as a report's photo is: ``reports.forms``, ``reports.photos``)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from jogo_dispatch.forwards.schemas import NoteIn
from jogo_dispatch.reports import photos
from jogo_dispatch.reports.forms import body_fields, checked_photo
from jogo_dispatch.settings import Settings

FIELDS_BYTES = 64 * 1024  # room for the text next to the photo in a multipart body
# The path whose body may carry a photo (the app's body limit lets it send more than the rest).
NOTE_PATH_PATTERN = r"/api/v1/agency/forwards/[0-9]+/notes"


def note_body_limit(settings: Settings) -> int:
    return max(settings.max_body_bytes, settings.photo_max_bytes + FIELDS_BYTES)


NOTE_BODY_OPENAPI: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": NoteIn.model_json_schema()},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["text"],
                    "properties": {
                        "text": {"type": "string", "minLength": 1, "maxLength": 4000},
                        "photo": {"type": "string", "format": "binary", "description": "JPEG or PNG"},
                    },
                }
            },
        },
    }
}


async def read_note(request: Request, settings: Settings) -> tuple[NoteIn, photos.Photo | None]:
    """The note in the request body and its photo, validated (text first, then the photo)."""
    fields, photo_bytes = await body_fields(
        request, note_body_limit(settings), max_fields=5, max_part_size=FIELDS_BYTES
    )
    try:
        data = NoteIn.model_validate(fields)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from None
    # a form whose file input was left empty sends an empty part: no photo
    return data, await checked_photo(settings, photo_bytes or None)
