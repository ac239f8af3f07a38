"""The PostgreSQL engine: every repository of storage/contract.py over one pooled database.

Why raw SQL per engine (asyncpg) rather than SQLAlchemy Core shared by both engines: measured
with bench/bench_sqlalchemy_overhead.py (2026-12-01, 2 shared cores, SQLAlchemy 2.0 over
aiosqlite, 200,000 enrolments), SQLAlchemy costs the SQLite engine's hottest query, the point
read every update makes, 4.8x (Core expressions: 0.25 ms -> 1.21 ms) and 3.2x (SQLAlchemy
running the same SQL text); a month's tally written as a portable Core expression is 4.7x
slower (its IN list replaces SQLite's one JSON parameter), and only the batch insert is even.
We allowed 15 %, and SQLite is the default most offices run. The dialects also differ exactly
where the hot queries live (JSON scopes vs arrays, partial indexes, advisory locks, SKIP
LOCKED), so one expression would not serve both anyway. What is
engine-neutral is shared, not copied: the PostgreSQL repositories import the SQLite engine's
column lists, row-to-record mappings, status constants and the SQL fragments valid in both
dialects (RENEWED_SQL, CLAIMED_SQL, the inbox's claim query).
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
from storage.postgresql.cards import CardRepository
from storage.postgresql.coordination import PostgresCoordination
from storage.postgresql.db import Database
from storage.postgresql.enrolments import EnrolmentRepository
from storage.postgresql.inbox import PostgresInbox
from storage.postgresql.invites import InviteRepository
from storage.postgresql.members import MemberRepository
from storage.postgresql.reminders import ReminderRepository
from storage.postgresql.sessions import IdentityRepository, SessionRepository
from storage.postgresql.summaries import SummaryRepository
from storage.postgresql.tallies import TallyRepository
from storage.postgresql.targets import FiguresRepository
from storage.postgresql.teams import TeamRepository
from storage.postgresql.units import UnitRepository
from storage.postgresql.users import UserRepository
from storage.postgresql.zalo_tokens import PostgresTokenStore


class PostgresStorage:
    """The PostgreSQL repositories sharing one connection pool.

    `db` is the engine's own handle (for tools such as migrate-data and for tests that check
    rows with SQL); services never use it.
    """

    engine = "postgresql"

    def __init__(self, url: str) -> None:
        self.db = Database(url)
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
        self.inbox: InboxStore = PostgresInbox(self.db)
        self.coordination: CoordinationStore = PostgresCoordination(self.db)

    @property
    def files_beside(self) -> Path | None:
        """None: a server has no folder of ours (FILES_DIR, or beside DATABASE_PATH)."""
        return None

    def zalo_tokens(self, app_id: str, clock: Clock, seed: str | None) -> ZaloTokenStore:
        return PostgresTokenStore(self.db, app_id, clock, seed=seed)

    async def connect(self) -> None:
        """Open the pool and apply pending migrations (once across instances). Idempotent."""
        await self.db.connect()

    async def close(self) -> None:
        await self.db.close()
