"""Open311 GeoReport v2's shapes: its error body, shared by the catalogue and the request routes, and the
service catalogue's answers.

The catalogue entries are typed dicts: the GeoReport v2 fields as the spec names them, validated and
documented as response models, and read as plain dicts by whoever builds on the catalogue."""

from __future__ import annotations

from typing import Any, Literal

from fastapi.responses import JSONResponse
from pydantic import BaseModel
from typing_extensions import TypedDict

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


class ServiceOut(TypedDict):
    """One entry of ``services.json``."""

    service_code: str
    service_name: str
    description: str
    metadata: bool
    type: Literal["realtime"]
    keywords: str
    group: str


class AttributeValueOut(TypedDict):
    key: str
    name: str


class ServiceAttributeOut(TypedDict):
    variable: bool
    code: str
    datatype: str
    required: bool
    datatype_description: str | None
    order: int
    description: str
    values: list[AttributeValueOut]


class ServiceDefinitionOut(TypedDict):
    """``services/{service_code}.json``."""

    service_code: str
    attributes: list[ServiceAttributeOut]
