"""The real conversation core on Zalo: webhook -> inbox -> worker -> core -> OA, over HTTP.

The same flows answer a Telegram person and a Zalo person: the figures must be the same, and
the Zalo buttons (oa.query.hide with "#a:" payloads) must lead to the same answers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.bootstrap import build_services
from bot.chat.flows import build_conversations
from bot.chat.model import Person, Reply, Text
from bot.chat.rich import to_plain
from bot.domain.clock import ManualClock
from devtools.zalo.driver import EmulatedZaloUser
from handlers.zalo.core import conversation_of
from tests.zalo_world import ZaloWorld, zalo_world

QUESTION = "bhyt hộ gia đình 3 người 12 tháng bao nhiêu"


@pytest.fixture
async def core_world(tmp_path: Path, clock: ManualClock) -> AsyncIterator[tuple[ZaloWorld, object]]:
    db_path = tmp_path / "bot.sqlite3"
    async with zalo_world(tmp_path, clock, db_path=db_path) as world:
        services = build_services(world.settings.model_copy(update={"database_path": db_path}), clock)
        await services.storage.connect()
        core = build_conversations(services, services.storage.sessions, services.storage.identities)
        world.channel.worker._conversation = conversation_of(core)  # the seam, as `bhxh-bot run` wires it
        try:
            yield world, core
        finally:
            await services.storage.close()


async def test_a_free_text_question_gets_the_telegram_figures(core_world: tuple[ZaloWorld, object]) -> None:
    world, core = core_world
    on_telegram = await core.handle(Text(Person("telegram", "4242"), QUESTION))  # type: ignore[attr-defined]
    expected = [to_plain(o.text) for o in on_telegram if isinstance(o, Reply)]
    user = world.emulator.add_user()
    zalo = world.emulator.user(user.user_id)
    await zalo.say(QUESTION)
    await world.drain()
    got = [m.text for m in zalo.inbox if m.text]
    assert got == expected
    assert "đ" in got[0] and "Tính cho:" in got[0]
    assert all(len(text) <= 2000 for text in got)
    assert all(len(m.buttons) <= 5 for m in zalo.inbox)


async def test_zalo_buttons_lead_to_the_same_answer(core_world: tuple[ZaloWorld, object]) -> None:
    world, core = core_world
    user = world.emulator.add_user()
    zalo = world.emulator.user(user.user_id)
    await zalo.follow()  # like pressing Start: greeted with the menu
    await world.drain()
    assert zalo.inbox[-1].buttons, "the greeting carries the menu"
    await zalo.press(zalo.inbox[-1].buttons[0].title)  # the first menu entry: BHYT hộ gia đình
    await world.drain()
    await _press_title(zalo, "3 người")  # the member counts come as pages of at most 5 buttons
    await world.drain()
    await _press_title(zalo, "12 tháng")
    await world.drain()
    answer = zalo.inbox[-1].text if zalo.inbox[-1].text else zalo.inbox[-2].text
    typed = await core.handle(Text(Person("telegram", "4343"), QUESTION))  # type: ignore[attr-defined]
    expected = [to_plain(o.text) for o in typed if isinstance(o, Reply)][0]
    # The same quote (the heading line names how the question was asked, so compare figures).
    assert _figures(expected) and _figures(answer or "") == _figures(expected)


async def _press_title(zalo: EmulatedZaloUser, title: str) -> None:
    """Tap the button titled `title` in the latest answer, whichever of its pages holds it."""
    for message in reversed(zalo.inbox[-4:]):
        for button in message.buttons:
            if button.title == title and button.query is not None:
                await zalo.press_payload(button.query)
                return
    raise AssertionError(f"no button {title!r} in {[m.button_titles for m in zalo.inbox[-4:]]}")


def _figures(text: str) -> list[str]:
    import re

    return re.findall(r"\d{1,3}(?:\.\d{3})+ đ", text)
