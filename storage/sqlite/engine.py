"""The SQLite engine: every repository of storage/*.py over one `Database` file.

`SQLiteStorage` meets `storage.contract.Storage`; `storage.engines.open_storage` is the one place
that builds it. (At merge, this module and the repositories move into a `storage.sqlite` package.)
"""

from __future__ import annotations

from pathlib import Path

from bot.domain.clock import Clock
from storage.contract import (
    CardStore,
    CoordinationStore,
    EnrolmentStore,
    FigureStore,
    IdentityStore,
    InboxStore,
    InviteStore,
    MemberStore,
    ReminderStore,
    SessionStore,
    SummaryStore,
    TallyStore,
    TeamStore,
    UnitStore,
    UserStore,
    ZaloTokenStore,
)
from storage.sqlite.cards import CardRepository
from storage.sqlite.coordination import SqliteCoordination
from storage.sqlite.db import Database
from storage.sqlite.enrolments import EnrolmentRepository
from storage.sqlite.inbox import SqliteInbox
from storage.sqlite.invites import InviteRepository
from storage.sqlite.members import MemberRepository
from storage.sqlite.reminders import ReminderRepository
from storage.sqlite.sessions import IdentityRepository, SessionRepository
from storage.sqlite.summaries import SummaryRepository
from storage.sqlite.tallies import TallyRepository
from storage.sqlite.targets import FiguresRepository
from storage.sqlite.teams import TeamRepository
from storage.sqlite.units import UnitRepository
from storage.sqlite.users import UserRepository
from storage.sqlite.zalo_tokens import SqliteTokenStore


class SQLiteStorage:
    """The SQLite repositories sharing one database (WAL, one serialised writer).

    `db` is the engine's own handle: for SQLite-specific tools and tests that check rows with
    SQL; services never use it.
    """

    engine = "sqlite"

    def __init__(self, path: Path | str) -> None:
        self.db = Database(path)
        self.users: UserStore = UserRepository(self.db)
        self.units: UnitStore = UnitRepository(self.db)
        self.figures: FigureStore = FiguresRepository(self.db)
        self.members: MemberStore = MemberRepository(self.db)
        self.teams: TeamStore = TeamRepository(self.db)
        self.invites: InviteStore = InviteRepository(self.db)
        self.enrolments: EnrolmentStore = EnrolmentRepository(self.db)
        self.tallies: TallyStore = TallyRepository(self.db)
        self.cards: CardStore = CardRepository(self.db)
        self.reminders: ReminderStore = ReminderRepository(self.db)
        self.summaries: SummaryStore = SummaryRepository(self.db)
        self.sessions: SessionStore = SessionRepository(self.db)
        self.identities: IdentityStore = IdentityRepository(self.db)
        self.inbox: InboxStore = SqliteInbox(self.db)
        self.coordination: CoordinationStore = SqliteCoordination(self.db)

    @property
    def path(self) -> Path:
        return self.db.path

    @property
    def files_beside(self) -> Path | None:
        """The SQLite file's folder: the bot's files (signed download links) sit beside it."""
        return self.db.path.parent

    def zalo_tokens(self, app_id: str, clock: Clock, seed: str | None) -> ZaloTokenStore:
        return SqliteTokenStore(self.db, app_id, clock, seed=seed)

    async def connect(self) -> None:
        """Open the file (creating folders) and apply pending migrations. Idempotent."""
        await self.db.connect()

    async def close(self) -> None:
        await self.db.close()
