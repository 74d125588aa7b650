"""ETA = distance x detour / speed."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jogo_dispatch.geo.eta import DEFAULT_DETOUR, DEFAULT_SPEEDS_MPS, eta_seconds


def test_defaults_are_the_documented_figures() -> None:
    assert dict(DEFAULT_SPEEDS_MPS) == {"car": 11.1, "motorbike": 9.7, "foot": 1.4}
    assert DEFAULT_DETOUR == 1.35


@pytest.mark.parametrize(
    ("unit", "expected"),
    [("car", 1000 * 1.35 / 11.1), ("motorbike", 1000 * 1.35 / 9.7), ("foot", 1000 * 1.35 / 1.4)],
)
def test_one_kilometre(unit: str, expected: float) -> None:
    assert eta_seconds(1000.0, unit) == pytest.approx(expected, rel=1e-12)


def test_slower_units_take_longer_and_zero_distance_is_zero() -> None:
    assert eta_seconds(500.0, "foot") > eta_seconds(500.0, "motorbike") > eta_seconds(500.0, "car") > 0
    assert eta_seconds(0.0, "car") == 0.0


def test_custom_speeds_and_detour() -> None:
    assert eta_seconds(300.0, "drone", {"drone": 15.0}, 1.0) == pytest.approx(20.0)
    assert eta_seconds(100.0, "car", detour_factor=2.0) == pytest.approx(200.0 / 11.1)


@settings(max_examples=200, deadline=None)
@given(
    st.floats(min_value=0.0, max_value=1e7),
    st.floats(min_value=0.0, max_value=1e7),
    st.sampled_from(sorted(DEFAULT_SPEEDS_MPS)),
)
def test_linear_and_monotone(d1: float, d2: float, unit: str) -> None:
    e1, e2 = eta_seconds(d1, unit), eta_seconds(d2, unit)
    assert e1 == pytest.approx(d1 * DEFAULT_DETOUR / DEFAULT_SPEEDS_MPS[unit], rel=1e-12)
    if d1 <= d2:
        assert e1 <= e2


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        ((100.0, "tank"), {}),
        ((-1.0, "car"), {}),
        ((math.nan, "car"), {}),
        ((math.inf, "car"), {}),
        ((100.0, "car"), {"detour_factor": 0.9}),
        ((100.0, "car"), {"speeds_mps": {"car": 0.0}}),
    ],
)
def test_rejects_bad_input(args: tuple[float, str], kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        eta_seconds(*args, **kwargs)  # type: ignore[arg-type]
