"""Imported cards, the phones people proved, and what links them, on PostgreSQL.

Links are not stored (view `card_links`, as on SQLite). Card imports take one advisory lock:
an import reads the stored rows before it writes, and two imports at once must not both insert
the same new code.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import date, datetime

from bot.domain.cards import Card
from bot.domain.records import DoorRow, LinkedCard
from bot.imports.cards import Change, ImportCounts, merge_card
from storage.postgresql.db import Database
from storage.sqlite.cards import (
    _C_COLUMNS,
    _CHUNK,
    _COLUMNS,
    CLAIMED_SQL,
    LINKED_SQL,
    RENEWED_SQL,
    _card_params,
    _update_params,
    card_from_row,
)

_UPSERT_PHONE = (
    "INSERT INTO contact_phones(channel, user_id, phone, verified_at) VALUES ($1, $2, $3, $4)"
    " ON CONFLICT(channel, user_id) DO UPDATE SET phone = excluded.phone, verified_at = excluded.verified_at"
)


class CardRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def import_cards(
        self,
        cards: Sequence[Card],
        source: str,
        at: datetime,
        scope: Collection[str] | None = None,
        legal_basis: str | None = None,
    ) -> ImportCounts:
        """Upsert by BHXH code in one transaction; unchanged rows are not touched; stored cards
        of units outside ``scope`` are refused; ``legal_basis`` is recorded on (or, None,
        cleared from) every card of the file taken (see storage/sqlite/cards.py)."""
        stamp = at.isoformat(timespec="seconds")
        counts = {change: 0 for change in Change}
        allowed = None if scope is None else set(scope)
        refused: list[str] = []
        async with self.db.transaction() as tx:
            await tx.lock("cards:import")
            for start in range(0, len(cards), _CHUNK):
                chunk = cards[start : start + _CHUNK]
                found = await tx.fetch(
                    f"SELECT {_COLUMNS} FROM cards WHERE bhxh_code = ANY($1::text[])", [c.bhxh_code for c in chunk]
                )
                existing = {row[0]: card_from_row(row) for row in found}
                inserts, updates, renewals = [], [], []
                for card in chunk:
                    old = existing.get(card.bhxh_code)
                    if old is not None and allowed is not None and old.unit_code not in allowed:
                        refused.append(card.bhxh_code)
                        continue
                    change = merge_card(old, card)
                    counts[change] += 1
                    if change is Change.ADD:
                        inserts.append(_card_params(card, source, stamp))
                    elif change in (Change.UPDATE, Change.RENEW):
                        updates.append(_update_params(card, source, stamp))
                        if change is Change.RENEW and old is not None:
                            renewals.append(
                                (card.bhxh_code, old.valid_to.isoformat(), card.valid_to.isoformat(),
                                 stamp, at.date().isoformat())
                            )
                await tx.executemany(
                    f"INSERT INTO cards({_COLUMNS}, source, imported_at, updated_at)"
                    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
                    inserts,
                )
                await tx.executemany(
                    "UPDATE cards SET full_name = $1, unit_code = $2, valid_to = $3, card_code = $4,"
                    " household_code = $5, birth_date = $6, birth_year = $7, sex = $8, phone = $9,"
                    " address = $10, valid_from = $11, source = $12, imported_at = $13, updated_at = $14"
                    " WHERE bhxh_code = $15",
                    updates,
                )
                await tx.executemany(
                    "INSERT INTO card_expiry_changes(bhxh_code, old_valid_to, new_valid_to,"
                    " changed_at, changed_on) VALUES ($1, $2, $3, $4, $5)",
                    renewals,
                )
                await tx.execute(
                    "UPDATE cards SET contact_basis = $1 WHERE bhxh_code = ANY($2::text[])"
                    " AND contact_basis IS DISTINCT FROM $1",
                    legal_basis, [c.bhxh_code for c in chunk if c.bhxh_code not in refused],
                )
        return ImportCounts(
            added=counts[Change.ADD],
            updated=counts[Change.UPDATE] + counts[Change.RENEW],
            unchanged=counts[Change.SAME],
            renewed=counts[Change.RENEW],
            older=counts[Change.OLDER],
            out_of_scope=tuple(refused),
        )

    async def get(self, bhxh_code: str) -> Card | None:
        row = await self.db.fetchrow(f"SELECT {_COLUMNS} FROM cards WHERE bhxh_code = $1", bhxh_code)
        return None if row is None else card_from_row(row)

    async def count(self) -> int:
        return int(await self.db.fetchval("SELECT COUNT(*) FROM cards"))

    async def known_units(self, codes: Iterable[str]) -> set[str]:
        """Which of these unit codes exist in the unit tree."""
        rows = await self.db.fetch("SELECT code FROM units WHERE code = ANY($1::text[])", sorted(set(codes)))
        return {row[0] for row in rows}

    async def cards_with_phone(self, phone: str) -> int:
        return int(await self.db.fetchval("SELECT COUNT(*) FROM cards WHERE phone = $1", phone))

    async def link_phone(self, user_id: int, phone: str, at: datetime, channel: str) -> None:
        """Remember the phone a person proved (replacing an earlier one)."""
        await self.db.execute(_UPSERT_PHONE, channel, user_id, phone, at.isoformat(timespec="seconds"))

    async def link_phones(self, links: Sequence[tuple[int, str]], at: datetime, channel: str) -> None:
        """Many (user id, phone) links at once (demo data, benchmarks)."""
        stamp = at.isoformat(timespec="seconds")
        await self.db.executemany(_UPSERT_PHONE, [(channel, user, phone, stamp) for user, phone in links])

    async def phone_of(self, user_id: int, channel: str) -> str | None:
        value = await self.db.fetchval(
            "SELECT phone FROM contact_phones WHERE channel = $1 AND user_id = $2", channel, user_id
        )
        return None if value is None else str(value)

    async def linked_cards(self, user_id: int, channel: str) -> list[LinkedCard]:
        """Every card linked to the person, own cards first, then by household and name."""
        return (await self.linked_cards_many([user_id], channel)).get(user_id, [])

    async def linked_cards_many(self, user_ids: Sequence[int], channel: str) -> dict[int, list[LinkedCard]]:
        """``linked_cards`` for many people in one query (the reminder job reads a batch)."""
        result: dict[int, list[LinkedCard]] = {}
        wanted = sorted(set(user_ids))
        for start in range(0, len(wanted), _CHUNK):
            rows = await self.db.fetch(
                "WITH who(user_id, phone) AS (SELECT user_id, phone FROM contact_phones"
                "   WHERE channel = $1 AND user_id = ANY($2::bigint[])),"
                " links(user_id, bhxh_code) AS ("
                "   SELECT w.user_id, c.bhxh_code FROM who w JOIN cards c ON c.phone = w.phone"
                "   UNION SELECT w.user_id, m.bhxh_code FROM who w JOIN cards o ON o.phone = w.phone"
                "   JOIN cards m ON m.household_code = o.household_code WHERE o.household_code IS NOT NULL)"
                f" SELECT {_C_COLUMNS}, c.phone IS NOT DISTINCT FROM w.phone AS own, {RENEWED_SQL} AS renewed,"
                f" {CLAIMED_SQL} AS claimed, l.user_id"
                " FROM links l JOIN cards c ON c.bhxh_code = l.bhxh_code JOIN who w ON w.user_id = l.user_id"
                " ORDER BY l.user_id, own DESC, c.household_code NULLS FIRST, c.birth_date NULLS FIRST, c.full_name",
                channel, wanted[start : start + _CHUNK],
            )
            for r in rows:
                result.setdefault(r[15], []).append(LinkedCard(card_from_row(r), bool(r[12]), bool(r[13]), bool(r[14])))
        return result

    async def cards_of_phones(self, phones: Sequence[str]) -> dict[str, list[LinkedCard]]:
        """The cards a ZNS to each phone is about: those carrying the phone and every card of
        their households, own cards first (as ``linked_cards_many`` for a person who linked it)."""
        result: dict[str, list[LinkedCard]] = {}
        wanted = sorted(set(phones))
        for start in range(0, len(wanted), _CHUNK):
            rows = await self.db.fetch(
                "WITH who(phone) AS (SELECT unnest($1::text[])),"
                " links(phone, bhxh_code) AS ("
                "   SELECT w.phone, c.bhxh_code FROM who w JOIN cards c ON c.phone = w.phone"
                "   UNION SELECT w.phone, m.bhxh_code FROM who w JOIN cards o ON o.phone = w.phone"
                "   JOIN cards m ON m.household_code = o.household_code WHERE o.household_code IS NOT NULL)"
                f" SELECT {_C_COLUMNS}, c.phone IS NOT DISTINCT FROM l.phone AS own, {RENEWED_SQL} AS renewed,"
                f" {CLAIMED_SQL} AS claimed, l.phone"
                " FROM links l JOIN cards c ON c.bhxh_code = l.bhxh_code"
                " ORDER BY l.phone, own DESC, c.household_code NULLS FIRST, c.birth_date NULLS FIRST, c.full_name",
                wanted[start : start + _CHUNK],
            )
            for r in rows:
                result.setdefault(r[15], []).append(LinkedCard(card_from_row(r), bool(r[12]), bool(r[13]), bool(r[14])))
        return result

    async def first_names(self, user_ids: Sequence[int], channel: str) -> dict[int, str]:
        """First names of people who wrote to the bot (table chat_users, read only)."""
        rows = await self.db.fetch(
            "SELECT user_id, first_name FROM chat_users WHERE channel = $1 AND user_id = ANY($2::bigint[])",
            channel, sorted(set(user_ids)),
        )
        return {row[0]: row[1] for row in rows}

    async def resume_reminders(self, user_id: int, at: datetime, channel: str) -> bool:
        """/nhac: clear the person's opt-out and their recorded block in ONE transaction."""
        stamp = at.isoformat(timespec="seconds")
        async with self.db.transaction() as tx:
            opted = await tx.execute(
                "UPDATE reminder_prefs SET opted_out = 0, changed_at = $1, changed_on = $2"
                " WHERE channel = $3 AND user_id = $4 AND opted_out = 1",
                stamp, at.date().isoformat(), channel, user_id,
            )
            unblocked = await tx.execute(
                "UPDATE reminder_blocks SET cleared_at = $1 WHERE channel = $2 AND user_id = $3 AND cleared_at IS NULL",
                stamp, channel, user_id,
            )
            return opted > 0 or unblocked > 0

    async def lapsed_in_units(self, unit_codes: Sequence[str] | None, today: date) -> list[DoorRow]:
        """Lapsed, unrenewed cards of these units (None: every card), oldest lapse first."""
        select = (
            f"SELECT {_C_COLUMNS}, {LINKED_SQL} AS linked, {CLAIMED_SQL} AS claimed FROM cards c"
            f" WHERE c.valid_to < $1 AND NOT {RENEWED_SQL}"
        )
        if unit_codes is None:
            found = await self.db.fetch(select, today.isoformat())
        else:
            found = await self.db.fetch(
                select + " AND c.unit_code = ANY($2::text[])", today.isoformat(), sorted(set(unit_codes))
            )
        rows = [DoorRow(card_from_row(r), bool(r[12]), bool(r[13])) for r in found]
        rows.sort(key=lambda r: (r.card.valid_to, r.card.unit_code, r.card.household_code or "", r.card.full_name))
        return rows
