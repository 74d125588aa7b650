"""Open311 GeoReport v2's own error shape, shared by the catalogue and the request routes."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse
from pydantic import BaseModel

from jogo_dispatch.errors import ErrorBody

PREFIX = "/open311/v2"


class Open311Error(BaseModel):
    code: int
    description: str


# A request refused before it reaches Open311 (a body over the size limit) has the service's common shape.
OPEN311_ERRORS: dict[int | str, dict[str, Any]] = {
    "4XX": {
        "model": list[Open311Error] | ErrorBody,
        "description": 'GeoReport v2 errors: `[{"code": <HTTP status>, "description"}]`',
    },
    503: {"model": list[Open311Error], "description": "The database cannot be reached right now; try again"},
}


def error_response(status: int, description: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse([{"code": status, "description": description}], status_code=status, headers=headers)
