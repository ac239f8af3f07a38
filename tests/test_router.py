"""The conversation core's router: dispatch, the button gate, menus, sessions that survive a restart.

Flows here are small stand-ins written for the test, so the router's own rules are checked apart
from any feature; every feature flow has its own tests through the same core.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from bot.chat.commands import BUTTON_NOT_ALLOWED
from bot.chat.flow import Flow, Turn
from bot.chat.model import Alert, Menu, Out, Person, Profile, Reply, Text
from bot.chat.rich import t
from bot.chat.router import Conversations, NoFlowAnswered
from storage.sqlite.sessions import IdentityRepository, SessionRepository
from tests.flow_harness import RecordingChat


async def _echo_command(turn: Turn) -> Sequence[Out]:
    return [Reply(t("cmd ", turn.event.name, " ", ",".join(turn.args)))]  # type: ignore[union-attr]


async def _remember(turn: Turn) -> Sequence[Out] | None:
    """Claims text only while its session is open; counts what it received."""
    state = await turn.session.get("count")
    if state is None:
        return None
    state["n"] += 1
    await turn.session.put("count", state)
    return [Reply(t(f"counted {state['n']}"))]


async def _open(turn: Turn) -> Sequence[Out]:
    await turn.session.put("count", {"n": 0})
    return [Reply(t("opened"))]


async def _fallback(turn: Turn) -> Sequence[Out]:
    return [Reply(t("fallback ", type(turn.event).__name__))]


async def _button(turn: Turn) -> Sequence[Out]:
    return [Reply(t("pressed ", turn.payload))]


COUNTER = Flow("counter", commands={"dem": _open}, on_text=_remember)
ECHO = Flow("echo", commands={"echo": _echo_command}, buttons={"g:": _button, "m:": _button}, on_other=_fallback)


def _core(world, flows: list[Flow]) -> Conversations:  # type: ignore[no-untyped-def]
    db = world.services.storage.db
    return Conversations(world.services, flows, SessionRepository(db), IdentityRepository(db))


async def test_commands_text_and_fallback_reach_the_declaring_flow(world) -> None:  # type: ignore[no-untyped-def]
    chat = RecordingChat(_core(world, [COUNTER, ECHO]), Person("telegram", "501"))
    await chat.text("/echo a b")
    assert chat.said() == "cmd echo a,b"
    await chat.text("hello")
    assert chat.said() == "fallback Text"  # no session open: the counter passes
    await chat.text("/dem")
    await chat.text("one")
    await chat.text("two")
    assert chat.said() == "counted 2"
    await chat.text("/khongco")
    assert chat.said() == "fallback Command"


async def test_a_button_the_role_may_not_press_reaches_no_flow(world) -> None:  # type: ignore[no-untyped-def]
    chat = RecordingChat(_core(world, [ECHO]), Person("telegram", "502"))
    await chat.press("g:save")  # the /ghi prefix: loggers only
    assert chat.last == [Alert(BUTTON_NOT_ALLOWED), Reply(t(BUTTON_NOT_ALLOWED))]
    await chat.press("m:hgd")  # everyone's
    assert chat.said() == "pressed m:hgd"


async def test_sessions_survive_a_new_core_on_the_same_database(world) -> None:  # type: ignore[no-untyped-def]
    person = Person("zalo_oa", "8457962349872349234123")  # longer than any integer column
    first = RecordingChat(_core(world, [COUNTER, ECHO]), person)
    await first.text("/dem")
    await first.text("x")
    again = RecordingChat(_core(world, [COUNTER, ECHO]), person)
    await again.text("y")
    assert again.said() == "counted 2"
    other = RecordingChat(_core(world, [COUNTER, ECHO]), Person("zalo_oa", "8457962349872349234124"))
    await other.text("y")
    assert other.said() == "fallback Text"


async def test_the_menu_follows_the_role_once(world) -> None:  # type: ignore[no-untyped-def]
    admin = RecordingChat(_core(world, [ECHO]), Person("telegram", "900001"), Profile("Admin"))
    await admin.text("hi")
    menus = [o for o in admin.last if isinstance(o, Menu)]
    assert len(menus) == 1 and "moi" in [command for command, _ in menus[0].entries]
    await admin.text("hi again")
    assert not [o for o in admin.last if isinstance(o, Menu)]
    citizen = RecordingChat(_core(world, [ECHO]), Person("telegram", "503"))
    await citizen.text("hi")
    assert not [o for o in citizen.last if isinstance(o, Menu)]


async def test_profile_is_recorded_and_an_unanswered_event_is_a_wiring_error(world) -> None:  # type: ignore[no-untyped-def]
    core = _core(world, [COUNTER])
    with pytest.raises(NoFlowAnswered):
        await core.handle(Text(Person("telegram", "504"), "hello"), Profile("Minh", "Trần", "minh"))
    row = await world.services.storage.db.fetchone("SELECT first_name FROM chat_users WHERE user_id = 504")
    assert row is not None and row[0] == "Minh"


def test_two_flows_cannot_declare_one_command(world) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="/echo"):
        _core(world, [ECHO, Flow("again", commands={"echo": _echo_command})])
    with pytest.raises(ValueError, match="BUTTON_ROLES"):
        _core(world, [Flow("bad", buttons={"zz:": _button})])


async def _put_then_fail(turn: Turn) -> Sequence[Out]:
    await turn.session.put("count", {"n": 99})
    raise RuntimeError("the flow failed after writing its session")


async def test_a_turn_that_fails_leaves_the_sessions_as_they_were(world) -> None:  # type: ignore[no-untyped-def]
    """Sessions are written once the turn has been answered: never half of a turn's changes."""
    core = _core(world, [Flow("failing", commands={"hong": _put_then_fail}), COUNTER, ECHO])
    chat = RecordingChat(core, Person("telegram", "505"))
    await chat.text("/dem")
    with pytest.raises(RuntimeError):
        await chat.text("/hong")
    await chat.text("one")
    assert chat.said() == "counted 1"  # not 100: the failed turn wrote nothing
