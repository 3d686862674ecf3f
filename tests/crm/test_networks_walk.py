"""``walk_back_step``, the newest-first walk every such network shares, on plain rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from crm.networks.base import Keyed, StreamState, walk_back_step

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def _rows(*ids: int) -> list[Keyed]:
    return [Keyed({"id": i}, str(i), i, T0 + timedelta(minutes=i)) for i in ids]


def test_a_walk_keeps_its_stop_until_it_reaches_it():
    state = StreamState(cursor="3", cursor_at=T0 + timedelta(minutes=3))
    keep, state, more, gap, limited = walk_back_step(
        state, _rows(9, 8), next_position="p2", order_of=int
    )
    assert [r["id"] for r in keep] == [9, 8] and more and gap is None and not limited
    assert (state.walking, state.cursor, state.stop, state.top, state.position) == (
        True,
        "3",
        "3",
        "9",
        "p2",
    )
    keep, state, more, gap, _ = walk_back_step(state, _rows(7, 6), next_position="p3", order_of=int)
    assert state.cursor == "3" and more  # not past the old stop before the gap closes
    keep, state, more, gap, _ = walk_back_step(
        state, _rows(5, 4, 3, 2), next_position="p4", order_of=int
    )
    assert [r["id"] for r in keep] == [5, 4] and not more and gap is None
    assert (state.walking, state.cursor, state.cursor_at) == (False, "9", T0 + timedelta(minutes=9))


def test_running_out_before_the_stop_is_a_gap_but_an_empty_network_is_not():
    state = StreamState(cursor="3", cursor_at=T0)
    _, closed, more, gap, _ = walk_back_step(state, _rows(9, 8), next_position=None, order_of=int)
    assert not more and gap is not None
    assert (gap.since, gap.until, gap.count) == (T0, T0 + timedelta(minutes=8), None)
    assert closed.cursor == "9" and not closed.walking
    _, closed, more, gap, _ = walk_back_step(state, [], next_position=None, order_of=int)
    assert gap is None and closed.cursor == "3" and not more


def test_a_first_poll_stops_at_its_history_budget_and_says_so():
    state = StreamState(history_pages=2)
    _, state, more, _, limited = walk_back_step(
        state, _rows(9, 8), next_position="p2", order_of=int
    )
    assert more and not limited and state.stop == ""
    _, state, more, gap, limited = walk_back_step(
        state, _rows(7, 6), next_position="p3", order_of=int
    )
    assert not more and limited and gap is None and state.cursor == "9"


def test_rows_without_a_key_are_kept_and_never_move_the_cursor():
    state = StreamState(cursor="3")
    keep, state, _, _, _ = walk_back_step(
        state, [Keyed({"bad": 1}), *_rows(4, 3)], next_position=None, order_of=int
    )
    assert keep == [{"bad": 1}, {"id": 4}] and state.cursor == "4"


def test_a_cursor_walk_reads_earlier_cursors_and_keeps_its_state_round_trip():
    from crm.networks.base import CursorWalk

    # A time cursor of an earlier version is the since of every list.
    assert CursorWalk.parse("1795000000") == CursorWalk(floor=1795000000)
    assert CursorWalk.parse("1795000000").since("any medium") == 1795000000
    # A walk YouTube stored mid-way goes on where it was.
    legacy = CursorWalk.parse(
        '{"since": 1795000000, "token": "CDIQAA", "top": 1795000900, "pages": 3}'
    )
    assert (legacy.floor, legacy.todo, legacy.token, legacy.tops, legacy.pages) == (
        1795000000,
        (("", ""),),
        "CDIQAA",
        {"": 1795000900},
        3,
    )
    walk = CursorWalk(
        floor=None,
        seen={"m1": 1795000100},
        todo=(("m2", "https://www.instagram.com/p/B/"),),
        token="QVFI",
        tops={"m2": 1795000200},
        pages=2,
    )
    assert CursorWalk.parse(walk.dump()) == walk
    assert CursorWalk(floor=5).dump() == "5" and CursorWalk().dump() is None
    for junk in ("not json", "[1, 2]", '{"todo": "x", "seen": []}'):
        assert CursorWalk.parse(junk).todo == ()
