"""Every conversation flow, in the order the router asks them (bot/chat/router.py).

Flows with an open session claim typed text before the citizen flow, which comes last and
answers anything (its `on_other` is the fallback for unknown commands and buttons).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.chat.flow import Flow
from bot.chat.flows import admin, agent, cards, citizen, membership, official
from bot.chat.router import Conversations
from bot.chat.sessions import IdentityStore, SessionStore

if TYPE_CHECKING:
    from bot.services import Services


def all_flows() -> list[Flow]:
    """The flows of the bot, most specific first; the citizen flow stays last."""
    return [
        agent.FLOW,
        membership.FLOW,
        admin.FLOW,
        official.FLOW,
        cards.FLOW,
        citizen.FLOW,
    ]


def build_conversations(services: Services, sessions: SessionStore, identities: IdentityStore) -> Conversations:
    """The conversation core: every flow, over the storage engine's session and identity stores."""
    return Conversations(services, all_flows(), sessions, identities)
