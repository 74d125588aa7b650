"""The incident and offer state machines, without a database."""

from __future__ import annotations

import itertools

import pytest

from jogo_dispatch.dispatch import lifecycle as lc
from jogo_dispatch.errors import Conflict

CHAIN = ["new", "verified", "dispatched", "en_route", "on_scene", "resolved"]


def test_the_forward_chain_and_cancel_from_any_open_state() -> None:
    for a, b in itertools.pairwise(CHAIN):
        assert lc.can_transition(a, b)
        assert lc.check_transition(a, b) == b
    for state in CHAIN[:-1]:
        assert lc.can_transition(state, "cancelled")
        assert lc.allowed_from(state)[-1] == "cancelled"
    assert lc.allowed_from("resolved") == [] and lc.allowed_from("cancelled") == []


def test_every_other_transition_is_invalid() -> None:
    allowed = {(a, b) for a, b in itertools.pairwise(CHAIN)} | {(s, "cancelled") for s in CHAIN[:-1]}
    allowed |= {("dispatched", "resolved"), ("en_route", "resolved")}  # closed early, with a reason
    states = [*lc.INCIDENT_STATUSES, "bogus"]
    for a, b in itertools.product(states, repeat=2):
        if (a, b) in allowed:
            continue
        assert not lc.can_transition(a, b)
        with pytest.raises(Conflict) as err:
            lc.check_transition(a, b)
        assert err.value.code == "invalid_transition" and err.value.status_code == 409
        assert err.value.details["from"] == a and err.value.details["to"] == b


def test_every_target_state_stamps_a_cad_timestamp() -> None:
    assert set(lc.TIMESTAMP_OF) == set(lc.IncidentStatus) - {lc.IncidentStatus.NEW}
    assert lc.TIMESTAMP_OF[lc.IncidentStatus.ON_SCENE] == "on_scene_at"
    assert {"en_route", "on_scene", "resolved"} == lc.OFFICER_PROGRESS
    assert lc.ASSIGNED | lc.FINAL | {"new", "verified"} == set(lc.IncidentStatus)


def test_offer_transitions() -> None:
    for to in ("accepted", "declined", "expired", "cancelled"):
        assert lc.check_offer_transition("pending", to) == to
    assert lc.can_offer_transition("accepted", "completed")
    assert lc.can_offer_transition("accepted", "cancelled")
    for a, b in (
        ("accepted", "declined"),
        ("declined", "accepted"),
        ("expired", "accepted"),
        ("completed", "cancelled"),
        ("pending", "completed"),
        ("pending", "nope"),
    ):
        assert not lc.can_offer_transition(a, b)
        with pytest.raises(Conflict):
            lc.check_offer_transition(a, b)
