"""Pure decoders for the phone-app tracking protocols: OsmAnd (Traccar Client) and OwnTracks HTTP.

No FastAPI, no database: bytes / query parameters / parsed JSON in, :class:`DeviceFix` out, and
:class:`~jogo_dispatch.errors.InvalidInput` (with a specific ``code``) for anything malformed. No other
exception type escapes, whatever the payload.

One module per wire format, each citing the upstream source it follows:

* :mod:`.osmand`: the OsmAnd query string / form body (Traccar's ``decodeQuery``), whose key set the
  traccar-client-sdk's flat JSON objects reuse.
* :mod:`.osmand_json`: OsmAnd JSON bodies, Traccar Client >= 9's nested location object (Traccar's
  ``decodeJson``) and arrays of flat objects.
* :mod:`.owntracks`: OwnTracks HTTP mode; :mod:`.owntracks_crypto` opens its encrypted payloads.
* :mod:`.common`: the :class:`DeviceFix` they all return and the value coercion they share.

Deliberate differences from Traccar (marked ``Unlike Traccar`` where they happen): ``yyyy-MM-dd
HH:mm:ss`` is read as UTC rather than in the server's zone; an unrecognised query value becomes a
number or a boolean only when it is a plain one (``"007"``, an ``imei`` stay strings); a negative speed,
bearing, accuracy or battery means unknown in every format, not only in the JSON one; non-finite
numbers, out-of-range coordinates and batteries above full are ``bad_field``.
"""

from __future__ import annotations

from jogo_dispatch.tracking.protocols.common import DeviceFix
from jogo_dispatch.tracking.protocols.osmand import KNOT_TO_MPS, parse_osmand_params
from jogo_dispatch.tracking.protocols.osmand_json import parse_osmand_json
from jogo_dispatch.tracking.protocols.owntracks import (
    KMH_TO_MPS,
    OwnTracksMessage,
    owntracks_identity,
    parse_owntracks,
)
from jogo_dispatch.tracking.protocols.owntracks_crypto import decrypt_payload, secret_box_key

__all__ = [
    "KNOT_TO_MPS",
    "KMH_TO_MPS",
    "DeviceFix",
    "OwnTracksMessage",
    "decrypt_payload",
    "owntracks_identity",
    "parse_osmand_json",
    "parse_osmand_params",
    "parse_owntracks",
    "secret_box_key",
]
