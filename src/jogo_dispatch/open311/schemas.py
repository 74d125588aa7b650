"""Open311 GeoReport v2's shapes, with the field names the spec gives them: its error body, shared by the
catalogue and the request routes; the service catalogue; service requests; and the admin API of API keys.

The catalogue entries are typed dicts (validated and documented as response models, read as plain dicts by
whoever builds on the catalogue); the rest are pydantic models."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema
from typing_extensions import TypedDict

from jogo_dispatch.errors import ErrorBody
from jogo_dispatch.open311 import xml
from jogo_dispatch.open311.xml import w3
from jogo_dispatch.platform.json_types import IsoDatetime

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


def error_response(
    status: int, description: str, headers: dict[str, str] | None = None, path: str = ""
) -> Response:
    """GeoReport's error: ``[{"code", "description"}]``, or ``<errors><error>…`` for a ``.xml`` path."""
    if path.endswith(".xml"):
        return xml.errors(status, description, headers)
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


# -- service requests -------------------------------------------------------------------------------------


W3Datetime = Annotated[
    datetime,
    PlainSerializer(w3, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}, mode="serialization"),
]


class ServiceRequestOut(BaseModel):
    """One service request read back (``requests.json``, ``requests/{id}.json``)."""

    service_request_id: str
    status: Literal["open", "closed"]
    status_notes: str
    service_name: str
    service_code: str
    description: str
    agency_responsible: str
    service_notice: str | None = None
    requested_datetime: W3Datetime
    updated_datetime: W3Datetime
    expected_datetime: W3Datetime | None = None
    address: str | None
    address_id: str | None = None
    zipcode: str | None = None
    # None while a request filed with an address only waits for a dispatcher to place it on the map.
    lat: float | None
    long: float | None
    media_url: str | None


class FiledRequestOut(BaseModel):
    """The answer to ``POST requests.json``."""

    service_request_id: str
    service_notice: str
    account_id: str | None


# -- discovery --------------------------------------------------------------------------------------------


class DiscoveryEndpointOut(BaseModel):
    specification: str
    url: str
    changeset: str
    type: Literal["production", "test"]
    formats: list[str]


class DiscoveryOut(BaseModel):
    """GeoReport's service discovery document (``discovery.json``)."""

    changeset: str
    contact: str
    key_service: str
    endpoints: list[DiscoveryEndpointOut]


# -- FixMyStreet's service request updates ------------------------------------------------------------------


class RequestUpdateOut(BaseModel):
    """One update of a service request (``servicerequestupdates.json``), FixMyStreet's extension: our status
    changes and public notes, with FixMyStreet's status names."""

    update_id: str
    service_request_id: str
    status: str
    updated_datetime: W3Datetime
    description: str
    media_url: str | None = None


class FiledUpdateOut(BaseModel):
    """The answer to ``POST servicerequestupdates.json``."""

    update_id: str


class PublicNoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=2000, description="shown to Open311 clients as an update")


class PlaceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    address: str | None = Field(None, max_length=500)


class UnplacedOut(BaseModel):
    """A request filed with an address only, waiting to be placed on the map."""

    report_id: int
    service_code: str
    description: str
    address: str | None
    address_id: str | None
    jurisdiction_id: str | None
    requested_datetime: IsoDatetime


class UnplacedList(BaseModel):
    items: list[UnplacedOut]


# -- API keys (admin) -------------------------------------------------------------------------------------


class ApiKeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str = Field(min_length=1, max_length=100, description="who the key is for")


class ApiKeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    label: str
    prefix: str
    created_at: IsoDatetime
    revoked_at: IsoDatetime | None
    last_used_at: IsoDatetime | None


class NewApiKeyOut(ApiKeyOut):
    key: str = Field(description="the key itself: shown in this answer only")


class ApiKeysOut(BaseModel):
    items: list[ApiKeyOut]
