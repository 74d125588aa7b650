"""Who may call what: one entry per (method, path) of the app, shared by the authorization matrix and the
fuzzer (which authenticates each operation as the first role listed for it).

A new route without an entry here fails tests/security/test_authz_matrix.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from fastapi.routing import iter_route_contexts

_INT_PARAM = re.compile(r"\{(\w+):int\}")
ROLES = ("citizen", "officer", "dispatcher", "agency", "admin")
CALLERS = ("anonymous", *ROLES)

PUBLIC = "public"  # anyone, no login needed
OWN_AUTH = "own_auth"  # not a bearer login: an Open311 api_key, a registered device id, or HTTP Basic
ANY = ROLES  # any login

D = ("dispatcher", "admin")
W = ("dispatcher", "admin", "agency")
A = ("admin",)
C = ("citizen",)
O = ("officer",)  # noqa: E741

Access = str | tuple[str, ...]

ACCESS: dict[tuple[str, str], Access] = {
    # -- framework pages and operations
    ("GET", "/"): PUBLIC,
    ("GET", "/openapi.json"): PUBLIC,
    ("GET", "/docs"): PUBLIC,
    ("GET", "/docs/oauth2-redirect"): PUBLIC,
    ("GET", "/redoc"): PUBLIC,
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/metrics"): PUBLIC,
    # -- browser pages and their files
    ("GET", "/map"): PUBLIC,
    ("GET", "/static/live/{path:path}"): PUBLIC,
    ("GET", "/app"): PUBLIC,
    ("GET", "/app/"): PUBLIC,
    ("GET", "/app/manifest.webmanifest"): PUBLIC,
    ("GET", "/app/sw.js"): PUBLIC,
    ("GET", "/static/app/{path:path}"): PUBLIC,
    # -- accounts
    ("POST", "/api/v1/auth/token"): PUBLIC,
    ("POST", "/api/v1/auth/revoke"): ANY,
    ("GET", "/api/v1/me"): ANY,
    ("POST", "/api/v1/users"): A,
    ("POST", "/api/v1/citizens"): PUBLIC,
    # -- tracking
    ("POST", "/api/v1/pings"): O,
    ("GET", "/api/v1/officers"): D,
    ("GET", "/api/v1/officers/{officer_id}"): D,
    ("POST", "/api/v1/officers"): A,
    ("GET", "/api/v1/officers/{officer_id}/track"): D,
    ("GET", "/api/v1/positions"): D,
    ("PUT", "/api/v1/officers/{officer_id}/status"): D,
    ("PUT", "/api/v1/me/status"): O,
    ("GET", "/api/v1/officers/{officer_id}/devices"): A,
    ("POST", "/api/v1/officers/{officer_id}/devices"): A,
    ("DELETE", "/api/v1/officers/{officer_id}/devices/{device_id}"): A,
    ("PUT", "/api/v1/officers/{officer_id}/devices/{device_id}/owntracks-key"): A,
    ("DELETE", "/api/v1/officers/{officer_id}/devices/{device_id}/owntracks-key"): A,
    ("GET", "/osmand"): OWN_AUTH,
    ("POST", "/osmand"): OWN_AUTH,
    ("PUT", "/osmand"): OWN_AUTH,
    ("POST", "/owntracks"): OWN_AUTH,
    # -- alerts, responders
    ("GET", "/api/v1/alerts"): D,
    ("POST", "/api/v1/alerts/{alert_id}/ack"): D,
    ("GET", "/api/v1/responders/nearest"): D,
    # -- agencies, routing, strikes
    ("GET", "/api/v1/agencies"): W,
    ("GET", "/api/v1/police-sectors"): W,
    ("GET", "/api/v1/categories"): PUBLIC,
    ("GET", "/api/v1/route"): D,
    ("GET", "/api/v1/routing-rules"): A,
    ("POST", "/api/v1/routing-rules"): A,
    ("PUT", "/api/v1/routing-rules/{rule_id}"): A,
    ("DELETE", "/api/v1/routing-rules/{rule_id}"): A,
    ("GET", "/api/v1/me/warnings"): ANY,
    ("POST", "/api/v1/appeals"): C,
    ("GET", "/api/v1/appeals"): D,
    ("POST", "/api/v1/appeals/{appeal_id}/decide"): D,
    # -- reports and SOS
    ("POST", "/api/v1/reports"): C,
    ("GET", "/api/v1/reports/mine"): C,
    ("GET", "/api/v1/reports"): D,
    ("GET", "/api/v1/reports/{report_id}"): ("citizen", *W),
    ("GET", "/api/v1/reports/{report_id}/photo"): ("citizen", *W),
    ("POST", "/api/v1/reports/{report_id}/verify"): D,
    ("POST", "/api/v1/reports/{report_id}/reject"): D,
    ("POST", "/api/v1/reports/{report_id}/unmark-false"): D,
    ("GET", "/api/v1/reports/{report_id}/evidence"): D,
    ("POST", "/api/v1/sos"): C,
    ("POST", "/api/v1/sos/{sos_id}/location"): C,
    ("POST", "/api/v1/sos/{sos_id}/end"): ("citizen", *D),
    ("GET", "/api/v1/sos/{sos_id}"): ("citizen", *W),
    # -- incidents and dispatch
    # an agency: only incidents forwarded to it (others are 404 / not listed)
    ("GET", "/api/v1/incidents"): W,
    ("GET", "/api/v1/incidents/{incident_id}"): W,
    ("GET", "/api/v1/incidents/{incident_id}/timeline"): W,
    ("POST", "/api/v1/incidents/{incident_id}/status"): (*D, "officer"),
    ("POST", "/api/v1/incidents/{incident_id}/dispatch"): D,
    ("POST", "/api/v1/incidents/{incident_id}/merge"): D,
    ("POST", "/api/v1/incidents/{incident_id}/split"): D,
    # the desk: call-taking (an officer: on view), edits, notes (an agency: forwarded incidents only),
    # assigning by radio
    ("POST", "/api/v1/incidents"): (*D, "officer"),
    ("PATCH", "/api/v1/incidents/{incident_id}"): D,
    ("POST", "/api/v1/incidents/{incident_id}/notes"): (*W, "officer"),
    ("POST", "/api/v1/incidents/{incident_id}/assign"): D,
    ("POST", "/api/v1/incidents/{incident_id}/backup"): (*D, "officer"),
    ("POST", "/api/v1/me/panic"): O,
    ("POST", "/api/v1/offers/{offer_id}/welfare"): O,
    ("GET", "/api/v1/response-plans"): D,
    ("POST", "/api/v1/response-plans"): A,
    ("PUT", "/api/v1/response-plans/{plan_id}"): A,
    ("DELETE", "/api/v1/response-plans/{plan_id}"): A,
    ("GET", "/api/v1/me/offers"): O,
    ("POST", "/api/v1/offers/{offer_id}/accept"): O,
    ("POST", "/api/v1/offers/{offer_id}/decline"): O,
    ("POST", "/api/v1/offers/{offer_id}/cancel"): D,
    ("POST", "/api/v1/dispatch/batch"): D,
    ("GET", "/api/v1/stats"): D,
    # -- forwards and the agency inbox
    ("POST", "/api/v1/incidents/{incident_id}/forwards"): D,
    ("GET", "/api/v1/incidents/{incident_id}/forwards"): D,
    ("POST", "/api/v1/forwards/{forward_id}/retry"): D,
    ("GET", "/api/v1/agency/inbox"): ("agency",),
    ("GET", "/api/v1/agency/forwards/{forward_id}"): ("agency",),
    ("POST", "/api/v1/agency/forwards/{forward_id}/ack"): ("agency",),
    ("POST", "/api/v1/agency/forwards/{forward_id}/notes"): ("agency",),
    ("POST", "/api/v1/agency/forwards/{forward_id}/close"): ("agency",),
    ("POST", "/api/v1/agencies/{agency_id}/users"): A,
    ("GET", "/api/v1/agencies/{agency_id}/users"): A,
    ("PUT", "/api/v1/agencies/{agency_id}/delivery"): A,
    # the agency portal: on the way, note photos (the command centre, and the forward's own agency: another
    # agency's is 404), SLAs (admins set them, dispatchers read them)
    ("POST", "/api/v1/agency/forwards/{forward_id}/start"): ("agency",),
    ("GET", "/api/v1/forwards/{forward_id}/notes/{note_id}/photo"): W,
    ("GET", "/api/v1/agencies/{agency_id}/sla"): D,
    ("PUT", "/api/v1/agencies/{agency_id}/sla"): A,
    # the agency portal's page and files (public: it logs in; what it shows is behind the agency API)
    ("GET", "/agency"): PUBLIC,
    ("GET", "/agency/"): PUBLIC,
    ("GET", "/agency/manifest.webmanifest"): PUBLIC,
    ("GET", "/agency/sw.js"): PUBLIC,
    ("GET", "/static/agency/{path:path}"): PUBLIC,
    # -- Open311
    ("GET", "/open311/v2/services.json"): PUBLIC,
    ("GET", "/open311/v2/services/{service_code}.json"): PUBLIC,
    ("POST", "/open311/v2/requests.json"): OWN_AUTH,
    ("GET", "/open311/v2/requests.json"): PUBLIC,
    ("GET", "/open311/v2/requests/{service_request_id}.json"): PUBLIC,
    ("GET", "/open311/v2/requests/{service_request_id}.xml"): PUBLIC,
    ("GET", "/open311/v2/requests.xml"): PUBLIC,
    ("POST", "/open311/v2/requests.xml"): OWN_AUTH,
    ("GET", "/open311/v2/services.xml"): PUBLIC,
    ("GET", "/open311/v2/services/{service_code}.xml"): PUBLIC,
    ("GET", "/open311/v2/servicerequestupdates.json"): PUBLIC,
    ("GET", "/open311/v2/servicerequestupdates.xml"): PUBLIC,
    ("POST", "/open311/v2/servicerequestupdates.json"): OWN_AUTH,
    ("POST", "/open311/v2/servicerequestupdates.xml"): OWN_AUTH,
    ("GET", "/open311/v2/discovery.json"): PUBLIC,
    ("GET", "/open311/v2/discovery.xml"): PUBLIC,
    ("GET", "/open311/discovery.json"): PUBLIC,
    ("GET", "/open311/discovery.xml"): PUBLIC,
    ("GET", "/api/v1/open311/unplaced"): D,
    ("POST", "/api/v1/open311/requests/{report_id}/place"): D,
    ("POST", "/api/v1/open311/requests/{report_id}/public-notes"): D,
    ("GET", "/api/v1/api-keys"): A,
    ("POST", "/api/v1/api-keys"): A,
    ("DELETE", "/api/v1/api-keys/{key_id}"): A,
    # -- rewards
    ("GET", "/api/v1/me/points"): C,
    ("GET", "/api/v1/rewards/leaderboard"): PUBLIC,
    # -- the admin console (/admin): the page is public (it logs in), everything it does is admin only
    ("GET", "/admin"): PUBLIC,
    ("GET", "/static/admin/{path:path}"): PUBLIC,
    ("GET", "/api/v1/audit"): A,
    ("GET", "/api/v1/officers/roster"): A,
    ("GET", "/api/v1/officers/export.csv"): A,
    ("POST", "/api/v1/officers/import"): A,
    ("PATCH", "/api/v1/officers/{officer_id}"): A,
    ("POST", "/api/v1/officers/{officer_id}/deactivate"): A,
    ("POST", "/api/v1/officers/{officer_id}/activate"): A,
    ("POST", "/api/v1/officers/{officer_id}/devices/{device_id}/setup"): A,
    ("GET", "/api/v1/users"): A,
    ("PATCH", "/api/v1/users/{user_id}"): A,
    ("POST", "/api/v1/users/{user_id}/password"): A,
    ("GET", "/api/v1/categories/all"): A,
    ("POST", "/api/v1/categories"): A,
    ("PUT", "/api/v1/categories/{code}"): A,
}


def http_routes(app: Any) -> Iterator[tuple[str, str]]:
    """(method, path) of every HTTP route of the app, websockets left out. HEAD is answered by the GET
    handler wherever a route lists both, so it shares the GET entry. A path converter that only keeps a
    route from shadowing others (``{officer_id:int}``) is left out, as the OpenAPI schema does."""
    for route in iter_route_contexts(app.routes):
        methods = route.methods
        if not methods:  # websocket routes
            continue
        for method in sorted(methods):
            if method == "HEAD" and "GET" in methods:
                continue
            yield method, _INT_PARAM.sub(r"{\1}", str(route.path))


def caller_for(method: str, path: str) -> str | None:
    """The role the fuzzer logs in as for an operation (None: no bearer token)."""
    access = ACCESS[(method.upper(), path)]
    return access[0] if isinstance(access, tuple) else None
