"""The fast snapshot constructors build genuine, frozen attrs instances equal to the attrs-built ones."""

from __future__ import annotations

from datetime import UTC, datetime

import attrs
import pytest

from hazardflow._model import AuditEvent, Case, FrozenDict, _snapshot_factory, new_case, new_event

T0 = datetime(2024, 3, 4, 1, 0, tzinfo=UTC)
CASE_ARGS = ("HZ-1", "hazard", "registered", 1, "500240204", "500240204", "p", "1", T0, T0, FrozenDict(a=1))
EVENT_ARGS = (
    *("HZ-1", 1, "hazard", "case.registered", "register", None, "registered"),
    *("u", "张", "inspector", "BU", "500240204", T0, "p", "1", FrozenDict(), FrozenDict()),
    *(None, None, None, "0" * 64, "f" * 64, (("cn.national", "2024.1"), ("p", "1"))),
)


def test_the_shipped_snapshots_get_the_fast_constructor() -> None:
    # Not the class itself: the factory proved itself on the real layouts.
    assert new_case is not Case
    assert new_event is not AuditEvent


def test_a_fast_case_is_a_frozen_case_equal_to_the_attrs_one() -> None:
    full = (*CASE_ARGS, None, False, 0, None, "h", FrozenDict(), (("cn.national", "2024.1"), ("p", "1")))
    fast, slow = new_case(*full), Case(*full)
    assert type(fast) is Case
    assert fast == slow
    assert hash(fast) == hash(slow)
    assert repr(fast) == repr(slow)
    assert attrs.asdict(fast) == attrs.asdict(slow)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        fast.state = "closed"  # type: ignore[misc]
    assert attrs.evolve(fast, state="closed").state == "closed"


def test_a_fast_event_is_a_frozen_event_equal_to_the_attrs_one() -> None:
    fast, slow = new_event(*EVENT_ARGS), AuditEvent(*EVENT_ARGS)
    assert type(fast) is AuditEvent
    assert fast == slow
    assert fast.to_dict() == slow.to_dict()
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        fast.hash = "0"  # type: ignore[misc]


def test_the_factory_gives_the_class_itself_when_it_cannot_build_faithfully() -> None:
    @attrs.frozen(slots=True)
    class WithWeakref:  # a __weakref__ slot: Python refuses the layout swap
        x: int

    @attrs.frozen(slots=True, weakref_slot=False)
    class Converted:
        x: int = attrs.field(converter=int)

    @attrs.frozen(slots=True, weakref_slot=False)
    class PostInit:
        x: int

        def __attrs_post_init__(self) -> None:
            pass

    @attrs.frozen(slots=False)
    class NoSlots:
        x: int

    for cls in (WithWeakref, Converted, PostInit, NoSlots):
        assert _snapshot_factory(cls) is cls


def test_a_fast_constructor_needs_every_field() -> None:
    with pytest.raises(TypeError):
        new_case(*CASE_ARGS)
