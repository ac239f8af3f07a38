"""Repository of imported cards, the phones people proved, and what links them.

Links are not stored: a person's cards are the cards carrying the phone they shared and every
card of those households (view ``card_links``), so a monthly re-import that adds a member,
changes a phone or extends a card is reflected at once.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Sequence
from datetime import date, datetime
from typing import Any

from bot.domain.cards import Card
from bot.domain.records import DoorRow, LinkedCard
from bot.imports.cards import Change, ImportCounts, merge_card
from storage.sqlite.db import Database

_CHUNK = 500

_COLUMNS = (
    "bhxh_code, full_name, unit_code, valid_to, card_code, household_code, birth_date,"
    " birth_year, sex, phone, address, valid_from"
)
_C_COLUMNS = ", ".join(f"c.{name.strip()}" for name in _COLUMNS.split(","))

# A BHYT enrolment logged by an agent that covers time after the card's expiry: a renewal.
# (Table `enrolments` belongs to the agents' module; read only here.)
RENEWED_SQL = (
    "EXISTS (SELECT 1 FROM enrolments e WHERE e.participant_code = c.bhxh_code"
    " AND e.status = 'active' AND e.scheme IN ('bhyt_household', 'bhyt_supported')"
    " AND e.period_end > c.valid_to)"
)
# "Tôi đã gia hạn" for this expiry that no agent rejected.
CLAIMED_SQL = (
    "EXISTS (SELECT 1 FROM renewal_claims rc WHERE rc.bhxh_code = c.bhxh_code"
    " AND rc.card_valid_to = c.valid_to AND rc.status <> 'rejected')"
)

# Someone linked this card: its own phone, or a phone on a card of the same household.
LINKED_SQL = (
    "(EXISTS (SELECT 1 FROM contact_phones cp WHERE cp.phone = c.phone)"
    " OR (c.household_code IS NOT NULL AND EXISTS (SELECT 1 FROM cards h"
    " JOIN contact_phones cp ON cp.phone = h.phone WHERE h.household_code = c.household_code)))"
)


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def card_from_row(row: Sequence[Any]) -> Card:
    """A Card from the first 12 columns in ``_COLUMNS`` order."""
    return Card(
        bhxh_code=row[0],
        full_name=row[1],
        unit_code=row[2],
        valid_to=date.fromisoformat(row[3]),
        card_code=row[4],
        household_code=row[5],
        birth_date=_day(row[6]),
        birth_year=row[7],
        sex=row[8],
        phone=row[9],
        address=row[10],
        valid_from=_day(row[11]),
    )


def _card_params(card: Card, source: str, stamp: str) -> tuple[Any, ...]:
    return (
        card.bhxh_code, card.full_name, card.unit_code, card.valid_to.isoformat(), card.card_code,
        card.household_code, _iso(card.birth_date), card.birth_year, card.sex, card.phone,
        card.address, _iso(card.valid_from), source, stamp, stamp,
    )


def _update_params(card: Card, source: str, stamp: str) -> tuple[Any, ...]:
    return _card_params(card, source, stamp)[1:] + (card.bhxh_code,)


class CardRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ----------------------------------------------------------------- import

    async def import_cards(
        self,
        cards: Sequence[Card],
        source: str,
        at: datetime,
        scope: Collection[str] | None = None,
        legal_basis: str | None = None,
    ) -> ImportCounts:
        """Upsert by BHXH code in one transaction; unchanged rows are not touched.

        ``legal_basis`` (``bhxh-bot import cards --legal-basis``): the basis for contacting the
        people of this list, recorded on every card of the file, or cleared when None: the
        latest list a card came on decides, so a list imported without one is never sent ZNS.

        ``scope`` (unit codes; None: everything) guards the cards ALREADY on file: a row whose
        code belongs to a stored card of a unit outside the scope changes nothing and comes back
        in ``ImportCounts.out_of_scope``, or an official could move another commune's person
        into their own unit and replace the phone. Checked inside the same transaction as the
        write. (Each row's own unit is the caller's to check, before this.)
        """
        stamp = at.isoformat(timespec="seconds")
        counts = {change: 0 for change in Change}
        allowed = None if scope is None else set(scope)
        refused: list[str] = []
        async with self.db.transaction() as conn:
            for start in range(0, len(cards), _CHUNK):
                chunk = cards[start : start + _CHUNK]
                marks = ",".join("?" * len(chunk))
                async with conn.execute(
                    f"SELECT {_COLUMNS} FROM cards WHERE bhxh_code IN ({marks})",
                    [c.bhxh_code for c in chunk],
                ) as cur:
                    existing = {row[0]: card_from_row(row) for row in await cur.fetchall()}
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
                if inserts:
                    await conn.executemany(
                        f"INSERT INTO cards({_COLUMNS}, source, imported_at, updated_at)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        inserts,
                    )
                if updates:
                    await conn.executemany(
                        "UPDATE cards SET full_name = ?, unit_code = ?, valid_to = ?, card_code = ?,"
                        " household_code = ?, birth_date = ?, birth_year = ?, sex = ?, phone = ?,"
                        " address = ?, valid_from = ?, source = ?, imported_at = ?, updated_at = ?"
                        " WHERE bhxh_code = ?",
                        updates,
                    )
                if renewals:
                    await conn.executemany(
                        "INSERT INTO card_expiry_changes(bhxh_code, old_valid_to, new_valid_to,"
                        " changed_at, changed_on) VALUES (?, ?, ?, ?, ?)",
                        renewals,
                    )
                taken = [c.bhxh_code for c in chunk if c.bhxh_code not in refused]
                await conn.executemany(
                    "UPDATE cards SET contact_basis = ? WHERE bhxh_code = ?",
                    [(legal_basis, code) for code in taken],
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
        row = await self.db.fetchone(f"SELECT {_COLUMNS} FROM cards WHERE bhxh_code = ?", (bhxh_code,))
        return None if row is None else card_from_row(row)

    async def count(self) -> int:
        return int(await self.db.fetchval("SELECT COUNT(*) FROM cards"))

    async def known_units(self, codes: Iterable[str]) -> set[str]:
        """Which of these unit codes exist in the unit tree."""
        wanted = sorted(set(codes))
        found: set[str] = set()
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            rows = await self.db.fetchall(
                f"SELECT code FROM units WHERE code IN ({','.join('?' * len(chunk))})", chunk
            )
            found.update(row[0] for row in rows)
        return found

    # ----------------------------------------------------------------- linking

    async def cards_with_phone(self, phone: str) -> int:
        return int(await self.db.fetchval("SELECT COUNT(*) FROM cards WHERE phone = ?", (phone,)))

    async def link_phone(self, user_id: int, phone: str, at: datetime, channel: str) -> None:
        """Remember the phone a person proved (replacing an earlier one)."""
        await self.db.execute(
            "INSERT INTO contact_phones(channel, user_id, phone, verified_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT(channel, user_id) DO UPDATE SET phone = excluded.phone,"
            " verified_at = excluded.verified_at",
            (channel, user_id, phone, at.isoformat(timespec="seconds")),
        )

    async def link_phones(self, links: Sequence[tuple[int, str]], at: datetime, channel: str) -> None:
        """Many (user id, phone) links at once (demo data, benchmarks)."""
        stamp = at.isoformat(timespec="seconds")
        await self.db.executemany(
            "INSERT INTO contact_phones(channel, user_id, phone, verified_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT(channel, user_id) DO UPDATE SET phone = excluded.phone,"
            " verified_at = excluded.verified_at",
            [(channel, user, phone, stamp) for user, phone in links],
        )

    async def phone_of(self, user_id: int, channel: str) -> str | None:
        return await self.db.fetchval(
            "SELECT phone FROM contact_phones WHERE channel = ? AND user_id = ?", (channel, user_id)
        )

    async def linked_cards(self, user_id: int, channel: str) -> list[LinkedCard]:
        """Every card linked to the person, own cards first, then by household and name."""
        return (await self.linked_cards_many([user_id], channel)).get(user_id, [])

    async def linked_cards_many(
        self, user_ids: Sequence[int], channel: str
    ) -> dict[int, list[LinkedCard]]:
        """``linked_cards`` for many people in one query (the reminder job reads a batch).

        The same set as view ``card_links``, written as index lookups from the people's
        phones: filtering the view would materialise it whole for every call.
        """
        result: dict[int, list[LinkedCard]] = {}
        wanted = sorted(set(user_ids))
        for start in range(0, len(wanted), _CHUNK):
            rows = await self.db.fetchall(
                "WITH who(user_id, phone) AS (SELECT user_id, phone FROM contact_phones"
                "   WHERE channel = ? AND user_id IN (SELECT value FROM json_each(?))),"
                " links(user_id, bhxh_code) AS ("
                "   SELECT w.user_id, c.bhxh_code FROM who w JOIN cards c ON c.phone = w.phone"
                "   UNION SELECT w.user_id, m.bhxh_code FROM who w JOIN cards o ON o.phone = w.phone"
                "   JOIN cards m ON m.household_code = o.household_code WHERE o.household_code IS NOT NULL)"
                f" SELECT {_C_COLUMNS}, c.phone IS w.phone AS own, {RENEWED_SQL} AS renewed,"
                f" {CLAIMED_SQL} AS claimed, l.user_id"
                " FROM links l JOIN cards c ON c.bhxh_code = l.bhxh_code JOIN who w ON w.user_id = l.user_id"
                " ORDER BY l.user_id, own DESC, c.household_code, c.birth_date, c.full_name",
                (channel, json.dumps(wanted[start : start + _CHUNK])),
            )
            for r in rows:
                result.setdefault(r[15], []).append(
                    LinkedCard(card_from_row(r), bool(r[12]), bool(r[13]), bool(r[14]))
                )
        return result

    async def cards_of_phones(self, phones: Sequence[str]) -> dict[str, list[LinkedCard]]:
        """The cards a ZNS to each phone is about: those carrying the phone and every card of
        their households, own cards first (as ``linked_cards_many`` for a person who linked it)."""
        result: dict[str, list[LinkedCard]] = {}
        wanted = sorted(set(phones))
        for start in range(0, len(wanted), _CHUNK):
            rows = await self.db.fetchall(
                "WITH who(phone) AS (SELECT value FROM json_each(?)),"
                " links(phone, bhxh_code) AS ("
                "   SELECT w.phone, c.bhxh_code FROM who w JOIN cards c ON c.phone = w.phone"
                "   UNION SELECT w.phone, m.bhxh_code FROM who w JOIN cards o ON o.phone = w.phone"
                "   JOIN cards m ON m.household_code = o.household_code WHERE o.household_code IS NOT NULL)"
                f" SELECT {_C_COLUMNS}, c.phone IS l.phone AS own, {RENEWED_SQL} AS renewed,"
                f" {CLAIMED_SQL} AS claimed, l.phone"
                " FROM links l JOIN cards c ON c.bhxh_code = l.bhxh_code"
                " ORDER BY l.phone, own DESC, c.household_code, c.birth_date, c.full_name",
                (json.dumps(wanted[start : start + _CHUNK]),),
            )
            for r in rows:
                result.setdefault(r[15], []).append(
                    LinkedCard(card_from_row(r), bool(r[12]), bool(r[13]), bool(r[14]))
                )
        return result

    async def first_names(self, user_ids: Sequence[int], channel: str) -> dict[int, str]:
        """Telegram first names of people who wrote to the bot (table chat_users, read only)."""
        rows = await self.db.fetchall(
            "SELECT user_id, first_name FROM chat_users WHERE channel = ?"
            " AND user_id IN (SELECT value FROM json_each(?))",
            (channel, json.dumps(sorted(set(user_ids)))),
        )
        return {row[0]: row[1] for row in rows}

    # ----------------------------------------------------------------- reminders back on

    async def resume_reminders(self, user_id: int, at: datetime, channel: str) -> bool:
        """/nhac: clear the person's opt-out and their recorded block in ONE transaction.

        Returns whether either changed. (Tables of storage/reminders.py; kept here so that the
        two writes share a transaction without a second repository taking part.)
        """
        stamp = at.isoformat(timespec="seconds")
        async with self.db.transaction() as conn:
            opted = await conn.execute(
                "UPDATE reminder_prefs SET opted_out = 0, changed_at = ?, changed_on = ?"
                " WHERE channel = ? AND user_id = ? AND opted_out = 1",
                (stamp, at.date().isoformat(), channel, user_id),
            )
            unblocked = await conn.execute(
                "UPDATE reminder_blocks SET cleared_at = ? WHERE channel = ? AND user_id = ?"
                " AND cleared_at IS NULL",
                (stamp, channel, user_id),
            )
            return opted.rowcount > 0 or unblocked.rowcount > 0

    # ----------------------------------------------------------------- agents' list

    async def lapsed_in_units(self, unit_codes: Sequence[str] | None, today: date) -> list[DoorRow]:
        """Lapsed, unrenewed cards of these units (None: every card), oldest lapse first."""
        select = (
            f"SELECT {_C_COLUMNS}, {LINKED_SQL} AS linked, {CLAIMED_SQL} AS claimed FROM cards c"
            f" WHERE c.valid_to < ? AND NOT {RENEWED_SQL}"
        )
        if unit_codes is None:
            found = await self.db.fetchall(select, (today.isoformat(),))
        else:
            found = await self.db.fetchall(
                select + " AND c.unit_code IN (SELECT value FROM json_each(?))",
                (today.isoformat(), json.dumps(sorted(set(unit_codes)))),
            )
        rows = [DoorRow(card_from_row(r), bool(r[12]), bool(r[13])) for r in found]
        rows.sort(key=lambda r: (r.card.valid_to, r.card.unit_code, r.card.household_code or "", r.card.full_name))
        return rows
