"""Application services: what every channel (Telegram today, Zalo tomorrow) calls.

Handlers stay thin: they parse a message, call one of these, and render the result. Nothing here
imports Telegram.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.access import AccessService
from bot.campaigns import CampaignBook
from bot.clock import Clock
from bot.rates import RateBook
from bot.settings import Settings
from storage.db import Database
from storage.members import MemberRepository
from storage.units import UnitRepository
from storage.users import UserRepository


@dataclass
class Services:
    """The live parts of the application, built once by `bot.app.build_services`."""

    settings: Settings
    clock: Clock
    db: Database
    rates: RateBook
    campaigns: CampaignBook
    users: UserRepository
    units: UnitRepository
    members: MemberRepository
    access: AccessService

    def today(self) -> date:
        """Local date (Asia/Ho_Chi_Minh by default) by the injected clock."""
        return self.clock.now().date()
