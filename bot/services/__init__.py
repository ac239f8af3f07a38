"""Application services: what every channel (Telegram today, Zalo tomorrow) calls.

Handlers stay thin: they parse a message, call one of these, and render the result. Nothing here
imports Telegram.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.domain.campaigns import CampaignBook
from bot.domain.clock import Clock
from bot.domain.rates import RateBook
from bot.services.access import AccessService
from bot.services.cards import CardService, ReminderService
from bot.services.enrolment import EnrolmentService
from bot.services.organisation import OrganisationService
from bot.services.summaries import SummaryService
from bot.services.tallies import TallyService
from bot.settings import Settings
from storage.db import Database
from storage.invites import InviteRepository
from storage.members import MemberRepository
from storage.targets import FiguresRepository
from storage.teams import TeamRepository
from storage.units import UnitRepository
from storage.users import UserRepository


@dataclass
class Services:
    """The live parts of the application, built once by `handlers.telegram.app.build_services`."""

    settings: Settings
    clock: Clock
    db: Database
    rates: RateBook
    campaigns: CampaignBook
    users: UserRepository
    units: UnitRepository
    members: MemberRepository
    access: AccessService
    teams: TeamRepository
    invites: InviteRepository
    figures: FiguresRepository
    organisation: OrganisationService
    tallies: TallyService
    enrolments: EnrolmentService
    cards: CardService
    reminders: ReminderService
    summaries: SummaryService

    def today(self) -> date:
        """Local date (Asia/Ho_Chi_Minh by default) by the injected clock."""
        return self.clock.now().date()
