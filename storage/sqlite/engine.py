"""The SQLite engine: every repository of storage/*.py over one `Database` file.

`SQLiteStorage` meets `storage.contract.Storage`; `storage.engines.open_storage` is the one place
that builds it. (At merge, this module and the repositories move into a `storage.sqlite` package.)
"""

from __future__ import annotations

from pathlib import Path

from storage.sqlite.cards import CardRepository
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


class SQLiteStorage:
    """The SQLite repositories sharing one database (WAL, one serialised writer).

    `db` is the engine's own handle: for SQLite-specific tools and tests that check rows with
    SQL; services never use it.
    """

    engine = "sqlite"

    def __init__(self, path: Path | str) -> None:
        self.db = Database(path)
        self.users = UserRepository(self.db)
        self.units = UnitRepository(self.db)
        self.figures = FiguresRepository(self.db)
        self.members = MemberRepository(self.db)
        self.teams = TeamRepository(self.db)
        self.invites = InviteRepository(self.db)
        self.enrolments = EnrolmentRepository(self.db)
        self.tallies = TallyRepository(self.db)
        self.cards = CardRepository(self.db)
        self.reminders = ReminderRepository(self.db)
        self.summaries = SummaryRepository(self.db)
        self.sessions = SessionRepository(self.db)
        self.identities = IdentityRepository(self.db)
        self.inbox = SqliteInbox(self.db)

    @property
    def path(self) -> Path:
        return self.db.path

    async def connect(self) -> None:
        """Open the file (creating folders) and apply pending migrations. Idempotent."""
        await self.db.connect()

    async def close(self) -> None:
        await self.db.close()
