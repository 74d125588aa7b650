"""GeoReport v2's XML: the same answers as the JSON routes, element by element as the spec's examples have
them (and as FixMyStreet's XML::Simple reads them).

* Every document starts with ``<?xml version="1.0" encoding="utf-8"?>`` and is sent as ``text/xml``.
* A list is a wrapper element with one child per item, named by ``ITEM_OF``: ``<services><service>``,
  ``<attributes><attribute>``, ``<values><value>``, ``<service_requests><request>``, ``<errors><error>``,
  ``<service_request_updates><request_update>``, ``<endpoints><endpoint>``, ``<formats><format>``.
* ``true``/``false`` for booleans; an empty element for a field without a value (the spec's
  ``<account_id/>``), so a client sees every field it knows.
* Characters XML 1.0 cannot carry (control characters other than tab and line breaks) are dropped, so a
  citizen's text never makes an answer unparseable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from xml.etree import ElementTree as ET

from fastapi.responses import Response

MEDIA_TYPE = "text/xml; charset=utf-8"
DECLARATION = b'<?xml version="1.0" encoding="utf-8"?>\n'

ITEM_OF = {
    "services": "service",
    "attributes": "attribute",
    "values": "value",
    "service_requests": "request",
    "errors": "error",
    "service_request_updates": "request_update",
    "endpoints": "endpoint",
    "formats": "format",
}
# Not XML 1.0 characters: C0 controls but tab, LF and CR; lone surrogates; U+FFFE and U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def w3(t: datetime) -> str:
    """GeoReport's w3 date-time: UTC, whole seconds, ``Z``."""
    return t.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def text_of(value: Any) -> str | None:
    """The element text of one value (None: an empty element)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return w3(value)
    return _NOT_XML.sub("", str(value))


def _fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, Mapping):
        for key, child in value.items():
            _fill(ET.SubElement(element, str(key)), child)
    elif isinstance(value, Sequence) and not isinstance(value, str | bytes):
        item = ITEM_OF.get(element.tag, "item")
        for child in value:
            _fill(ET.SubElement(element, item), child)
    else:
        element.text = text_of(value)


def document(root: str, content: Any) -> bytes:
    """``content`` (a list for a list root such as ``services``, else a mapping) as a GeoReport document."""
    element = ET.Element(root)
    _fill(element, content)
    body: bytes = ET.tostring(element, encoding="utf-8", xml_declaration=False)
    return DECLARATION + body


def response(
    root: str, content: Any, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(document(root, content), status_code=status_code, media_type=MEDIA_TYPE, headers=headers)


def errors(status: int, description: str, headers: dict[str, str] | None = None) -> Response:
    """``<errors><error><code>403</code><description>…</description></error></errors>``."""
    return response("errors", [{"code": status, "description": description}], status, headers)
