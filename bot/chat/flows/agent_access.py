"""Who may use the agents' commands, and the polite refusal for everyone else.

Every agent command checks here first, so a citizen (or an admin with no unit) gets the same
answer from /ghi, /huy, /toi and /nhom, and nothing is read or written for them.
"""

from __future__ import annotations

from bot.chat.flow import Turn
from bot.chat.model import Reply
from bot.chat.texts import enrolment as texts
from bot.domain.roles import Member, Role


def logging_member(turn: Turn) -> Member | None:
    """The sender's membership if they may log entries (agents, team leaders, officials);
    None for citizens and for an admin who has joined no unit."""
    actor = turn.actor
    if not turn.services.enrolments.can_log(actor) or actor.member is None:
        return None
    return actor.member


def not_a_logger(turn: Turn) -> Reply:
    """The refusal for someone `logging_member` found none for: an admin is told how to join."""
    return Reply(texts.ADMIN_NOT_MEMBER if turn.actor.is_admin else texts.NOT_MEMBER)


def is_citizen(turn: Turn) -> bool:
    """Citizens see no unit data at all: the results commands answer them `NOT_MEMBER`."""
    return turn.actor.role == Role.CITIZEN


NOT_MEMBER = Reply(texts.NOT_MEMBER)
