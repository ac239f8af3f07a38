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
from storage.contract import FigureStore, InviteStore, MemberStore, Storage, TeamStore, UnitStore, UserStore


@dataclass
class Services:
    """The live parts of the application, built once by `bot.bootstrap.build_services`.

    `storage` is the engine `storage.engines.open_storage` chose; the repositories here and in
    the services are its stores, named by their protocols (`storage.contract`), never by an
    engine's classes.
    """

    settings: Settings
    clock: Clock
    storage: Storage
    rates: RateBook
    campaigns: CampaignBook
    users: UserStore
    units: UnitStore
    members: MemberStore
    access: AccessService
    teams: TeamStore
    invites: InviteStore
    figures: FigureStore
    organisation: OrganisationService
    tallies: TallyService
    enrolments: EnrolmentService
    cards: CardService
    reminders: ReminderService
    summaries: SummaryService

    def today(self) -> date:
        """Local date (Asia/Ho_Chi_Minh by default) by the injected clock."""
        return self.clock.now().date()
