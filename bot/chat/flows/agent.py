"""The agents' flow: logging participants (/ghi, agent_log), withdrawing and voiding entries,
results, leaderboards and the monthly form (agent_results).

It comes first among the flows: while a /ghi draft is open it claims the person's typed text
and other messages before any other flow, and its `before` hook ends that draft when the
person moves on (bot/chat/flows/agent_log.py says when).
"""

from __future__ import annotations

from bot.chat.flow import Flow
from bot.chat.flows import agent_log, agent_results

FLOW = Flow(
    "agent",
    commands={
        "ghi": agent_log.ghi,
        "huy": agent_results.huy,
        "huyghi": agent_results.huyghi,
        "toi": agent_results.toi,
        "nhom": agent_results.nhom,
        "bangxephang": agent_results.bangxephang,
        "thidua": agent_results.thidua,
        "xuat": agent_results.xuat,
    },
    buttons={
        agent_log.BUTTON_PREFIX: agent_log.on_button,
        "eh:": agent_results.on_withdraw_button,
    },
    on_text=agent_log.on_text,
    on_phone=agent_log.on_not_text,
    on_document=agent_log.on_not_text,
    on_other=agent_log.on_not_text,
    before=agent_log.before,
)
