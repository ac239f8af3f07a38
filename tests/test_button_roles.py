"""Every button prefix pressed by every role: the table in `bot.chat.commands` decides, nothing leaks.

A forged payload of a prefix the role may not press gets the polite refusal and no data (no
roster names for an agent forging the officials' /moi buttons), and changes nothing; allowed
presses reach their feature and never end in the apology. Presses use raw callback data, as a
modified client would send it.
"""

from __future__ import annotations

import asyncio

import pytest

from bot.chat.commands import BUTTON_NOT_ALLOWED, BUTTON_ROLES, COMMAND_ROLES, button_prefix
from bot.chat.cost import CostDraft, Scheme
from bot.chat.texts import cost as replies
from bot.domain.records import CLI_ACTOR
from bot.domain.roles import Role
from devtools.telegram_emulator import BotApiEmulator, EmulatedUser, SentMessage
from tests.agent_world import AN, LEADER, OFFICIAL_A, World, seed_world
from tests.conftest import ADMIN_ID, DEFAULT_NOW, BotHarness

UNCLAIMED = "Võ Thị Chưa Vào"  # on the roster of Xã Tân An, not yet on Telegram
HUGE = "9" * 20  # above SQLite's INTEGER

PRESSERS: dict[Role, int] = {
    Role.CITIZEN: 5999,
    Role.AGENT: AN.user_id,
    Role.TEAM_LEADER: LEADER.user_id,
    Role.OFFICIAL: OFFICIAL_A.user_id,
    Role.ADMIN: ADMIN_ID,
}


def payloads(member_id: int, team_id: int) -> dict[str, list[str]]:
    """Valid-looking and forged payloads of every prefix in the table."""
    draft = CostDraft(scheme=Scheme.BHYT_HOUSEHOLD, members=2).encode()
    return {
        "q1|": [draft, "q1|h|²|12||||", f"q1|h|{HUGE}|||||", "q1|"],
        "m:": ["m:hgd", "m:tn", "m:<b>x</b>"],
        "rc:": ["rc:cards", "rc:m:12", "rc:m:①", f"rc:m:{HUGE}"],
        "g:": ["g:s:h", "g:ok", "g:m:²", f"g:m:{HUGE}", "g:x"],
        "eh:": ["eh:k", f"eh:w:{HUGE}", "eh:w:①②", "eh:w:1"],
        "iv|": [
            "iv|r|a",
            "iv|u|a|CL01",
            f"iv|t|a|CL01|{team_id}",
            "iv|t|a|CL01|0",
            f"iv|t|a|CL01|{HUGE}",
            f"iv|m|a|CL01|0|{HUGE}",
            "iv|m|a|CL01|0|①",
        ],
        "dv|": ["dv|CL01", "dv|CL", "dv|<i>"],
        "tv|": ["tv|p|CL01|0", f"tv|v|{member_id}", f"tv|v|{HUGE}", f"tv|p|CL01|{HUGE}", "tv|x|²", f"tv|r|{member_id}|o"],
        "bp|": ["bp|CL01", "bp|CL02", "bp|"],
    }


def test_every_prefix_and_command_is_in_the_table() -> None:
    prefixes = set(payloads(1, 1))
    assert prefixes == set(BUTTON_ROLES)
    assert all(button_prefix(data) == prefix for prefix, items in payloads(1, 1).items() for data in items)
    for command, roles in COMMAND_ROLES.items():
        assert roles, command
    # Every officials-only prefix is closed to agents and citizens.
    for prefix in ("iv|", "dv|", "tv|", "bp|"):
        assert Role.AGENT not in BUTTON_ROLES[prefix] and Role.CITIZEN not in BUTTON_ROLES[prefix]


async def _press(emulator: BotApiEmulator, user: EmulatedUser, data: str) -> tuple[list[SentMessage], str | None]:
    """Press `data` on the latest bot message; return the outputs and the callback answer text."""
    message_id = [m for m in user.history() if not m.method.startswith("delete")][-1].message_id
    query_id = await user.press_data(message_id, data)
    await answered(emulator, query_id)
    outputs = await user.settle(quiet=0.15, timeout=10)
    answers = [a for a in emulator.callback_answers if a.query_id == query_id]
    return outputs, (answers[0].text if answers else None)


async def answered(emulator: BotApiEmulator, query_id: str, timeout: float = 10.0) -> None:
    """Wait until the bot answered the callback query (every press must be answered)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not emulator._queries[query_id].answered:
        assert loop.time() < deadline, f"callback query {query_id} never answered"
        await asyncio.sleep(0.01)


async def _table_counts(harness: BotHarness) -> tuple[int, ...]:
    db = harness.services.storage.db
    return tuple(
        [int(await db.fetchval(f"SELECT COUNT(*) FROM {table}")) for table in ("invites", "members", "enrolments")]
    )


@pytest.fixture
async def world(harness: BotHarness) -> World:
    return await seed_world(harness.services, DEFAULT_NOW)


async def test_every_button_prefix_as_every_role(harness: BotHarness, emulator: BotApiEmulator, world: World) -> None:
    services = harness.services
    unclaimed_id = await services.members.add(
        full_name=UNCLAIMED, role=Role.AGENT, unit_code="CL01", actor=CLI_ACTOR, at=DEFAULT_NOW
    )
    table = payloads(unclaimed_id, world.team_ids["TO1"])
    seen: dict[Role, dict[str, list[str]]] = {}

    async def run_role(role: Role) -> None:
        user = emulator.user(PRESSERS[role], first_name=role.value)
        await user.ask("/start")
        await user.settle(quiet=0.15)
        texts: dict[str, list[str]] = {}
        for prefix, items in table.items():
            for data in items:
                before = await _table_counts(harness)
                outputs, answer = await _press(emulator, user, data)
                said = [m.plain_text for m in outputs]
                texts[data] = said
                assert replies.INTERNAL_ERROR not in said, (role, data)
                if role in BUTTON_ROLES[prefix]:
                    assert BUTTON_NOT_ALLOWED not in said and answer != BUTTON_NOT_ALLOWED, (role, data, said)
                else:
                    assert said == [BUTTON_NOT_ALLOWED], (role, data, said)
                    assert answer == BUTTON_NOT_ALLOWED
                    assert await _table_counts(harness) == before, (role, data)
        seen[role] = texts

    # Those refused somewhere first (their allowed presses change none of the counted tables,
    # so "changes nothing" is exact), then officials and admins, who may press everything.
    for phase in ((Role.CITIZEN, Role.AGENT, Role.TEAM_LEADER), (Role.OFFICIAL, Role.ADMIN)):
        async with asyncio.TaskGroup() as group:
            for role in phase:
                group.create_task(run_role(role))

    # The /moi roster step shows the unclaimed name to officials, never to anyone else.
    for role, texts in seen.items():
        shown = " ".join(" ".join(t) for t in texts.values())
        if role in BUTTON_ROLES["iv|"]:
            assert UNCLAIMED in shown, role
        else:
            assert UNCLAIMED not in shown, role


# Arguments that would make each command act, had the sender the right role.
COMMAND_ARGS = {
    "huyghi": "1 gõ nhầm mã", "xuat": "11/2026", "suatv": "1 agent", "xoatv": "1", "moi": "agent CL01",
    "thanhvien": "CL01", "donvi": "CL01", "baophu": "CL01", "baocao": "CL01", "tomtat": "bat",
}
REFUSAL_MARKERS = ("dành cho", "chỉ cán bộ phụ trách", "Chỉ cán bộ phụ trách")
DATA_MARKERS = ("Tân An", "Mỹ Cẩm", "Càng Long", AN.name, LEADER.name, OFFICIAL_A.name, "Mã mời", "Đã ")


async def test_every_command_refuses_the_roles_the_table_refuses(
    harness: BotHarness, emulator: BotApiEmulator, world: World
) -> None:
    """The handlers agree with `COMMAND_ROLES`: a role the table leaves out gets one refusal
    message, no file and no unit, member or invite data, and nothing is written."""
    refused_pairs = [(role, cmd) for role in PRESSERS for cmd, roles in COMMAND_ROLES.items() if role not in roles]
    assert {cmd for _, cmd in refused_pairs} >= {"ghi", "huyghi", "moi", "suatv", "xuat", "baocao"}

    async def run_role(role: Role) -> None:
        user = emulator.user(PRESSERS[role], first_name=role.value)
        for who, command in refused_pairs:
            if who != role:
                continue
            await user.say(f"/{command} {COMMAND_ARGS.get(command, '')}".strip())
            outputs = await user.replies(count=1, timeout=10)
            outputs += await user.settle(quiet=0.15)
            assert len(outputs) == 1 and outputs[0].file_name is None, (role, command, outputs)
            text = outputs[0].plain_text
            assert any(marker in text for marker in REFUSAL_MARKERS), (role, command, text)
            assert not any(marker in text for marker in DATA_MARKERS), (role, command, text)

    before = await _table_counts(harness)
    async with asyncio.TaskGroup() as group:
        for role in PRESSERS:
            group.create_task(run_role(role))
    assert await _table_counts(harness) == before


async def test_invite_lookups_refuse_those_who_may_not_invite(harness: BotHarness, world: World) -> None:
    """Behind the gate, the service itself shows teams and roster names only to inviters."""
    services = harness.services
    await services.members.add(full_name=UNCLAIMED, role=Role.AGENT, unit_code="CL01", actor=CLI_ACTOR, at=DEFAULT_NOW)
    for person in (AN, LEADER):
        actor = await services.access.actor(person.user_id, channel="telegram")
        assert await services.organisation.teams_for_invite(actor, "CL01") == []
        assert await services.organisation.unclaimed(actor, "CL01") == []
        assert await services.organisation.unclaimed(actor, "CL01", world.team_ids["TO1"]) == []
    official = await services.access.actor(OFFICIAL_A.user_id, channel="telegram")
    assert {t.code for t in await services.organisation.teams_for_invite(official, "CL01")} == {"TO1", "TO2"}
    assert UNCLAIMED in [m.full_name for m in await services.organisation.unclaimed(official, "CL01")]
