"""Importing the lapsed-card lists: the sample's flaws exactly, idempotence, upsert, broken files."""

from __future__ import annotations

import codecs
import csv
import io
import unicodedata
from collections.abc import AsyncIterator
from datetime import date, datetime
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from bot.chat.texts.cards import file_error_text, import_report_text
from bot.cli import main as cli_main
from bot.domain.campaigns import CampaignBook
from bot.domain.cards import Card
from bot.domain.clock import ManualClock
from bot.domain.rates import RateBook
from bot.imports.cards import (
    CHAT_MAX_ROWS,
    MAX_ROWS,
    CardFileError,
    Column,
    FileProblem,
    Problem,
    Severity,
    merge_card,
    normalize_phone,
    parse_card_file,
    parse_day,
)
from bot.services.cards import CardService
from devtools import hostile_files as hostile
from storage.sqlite.db import Database
from storage.sqlite.engine import SQLiteStorage
from tests.storage_engines import opened_storage

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=TZ)
SAMPLES = resources.files("bot") / "data" / "samples"
HEADER = "STT,Mã hộ gia đình,Họ và tên,Mã số BHXH,Mã thẻ BHYT,Ngày sinh,Giới tính,Số điện thoại,Địa chỉ,Mã đơn vị,Hạn thẻ từ,Hạn thẻ đến"


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[SQLiteStorage]:
    async with opened_storage(tmp_path / "cards.sqlite3") as opened:
        yield opened


@pytest.fixture
def db(storage: SQLiteStorage) -> Database:
    """The SQLite engine's handle, for checking rows with SQL."""
    return storage.db


@pytest.fixture
def service(storage: SQLiteStorage) -> CardService:
    return CardService(storage.cards, storage.users, RateBook.load(), CampaignBook.load(), ManualClock(NOW))


# --------------------------------------------------------------------------- the sample list


def test_sample_csv_reports_exactly_its_flawed_rows() -> None:
    parsed = parse_card_file(sample("the_het_han_2026.csv"), "the_het_han_2026.csv")
    assert parsed.header_row == 1
    assert parsed.data_rows == 372
    found = [(p.row, p.problem, p.severity) for p in parsed.problems]
    assert found == [
        (13, Problem.BAD_DATE, Severity.REJECTED),  # STT 12: valid to 31/02/2026
        (21, Problem.MISSING_CODE, Severity.REJECTED),  # STT 20: no BHXH code
        (42, Problem.YEAR_ONLY, Severity.WARNING),  # STT 41: born "1985", kept
        (373, Problem.DUPLICATE, Severity.SKIPPED),  # STT 372 repeats STT 26
    ]
    assert parsed.problems[0].column is Column.VALID_TO and parsed.problems[0].value == "31/02/2026"
    assert parsed.problems[3].other_row == 27
    assert len(parsed.rows) == 369
    # Missing phones are not flaws: those people are linked through their household.
    assert parsed.without_phone == 45


def test_sample_xlsx_has_title_rows_and_gives_the_same_cards() -> None:
    xlsx = parse_card_file(sample("the_het_han_2026.xlsx"), "the_het_han_2026.xlsx")
    csv_ = parse_card_file(sample("the_het_han_2026.csv"), "the_het_han_2026.csv")
    assert xlsx.header_row == 3  # a title row and a blank row above the header
    assert [p.row for p in xlsx.problems] == [15, 23, 44, 375]
    assert {c for _, c in xlsx.rows} == {c for _, c in csv_.rows}


def test_phones_with_spaces_or_plus84_are_normalised_not_flawed() -> None:
    parsed = parse_card_file(sample("the_het_han_2026.csv"), "x.csv")
    cards = {c.bhxh_code: c for _, c in parsed.rows}
    assert cards["8423001981"].phone == "0836974222"  # "0836 974 222"
    assert cards["8423004608"].phone == "0912037468"  # "+84 912 037 468"
    assert cards["8423000076"].phone is None  # empty cell
    assert cards["8423020585"].birth_date is None and cards["8423020585"].birth_year == 1985
    assert cards["8423000925"].valid_to == date(2026, 9, 3)
    assert cards["8423000925"].sex == "nu"


async def test_import_twice_changes_nothing(service: CardService, db: Database) -> None:
    first = await service.import_list(sample("the_het_han_2026.xlsx"), "the_het_han_2026.xlsx", None)
    assert (first.counts.added, first.counts.updated) == (369, 0)
    snapshot = await db.fetchall("SELECT * FROM cards ORDER BY bhxh_code")
    second = await service.import_list(sample("the_het_han_2026.xlsx"), "the_het_han_2026.xlsx", None)
    assert (second.counts.added, second.counts.updated, second.counts.unchanged) == (0, 0, 369)
    third = await service.import_list(sample("the_het_han_2026.csv"), "the_het_han_2026.csv", None)
    assert third.counts.unchanged == 369
    assert [tuple(r) for r in await db.fetchall("SELECT * FROM cards ORDER BY bhxh_code")] == [
        tuple(r) for r in snapshot
    ]
    assert await db.fetchval("SELECT COUNT(*) FROM card_expiry_changes") == 0
    report = import_report_text("the_het_han_2026.xlsx", second).plain
    assert "Dòng 15" in report and "Dòng 23" in report and "Dòng 44" in report and "Dòng 375" in report


async def test_reimport_upserts_by_code_and_records_a_later_expiry(service: CardService, db: Database) -> None:
    rows = [
        "1,HGD1,Nguyễn Thị Hoa,8423000001,GD4848423000001,01/01/1980,Nữ,0912 345 678,\"Ấp 1, Xã A\",CL01,01/03/2025,28/02/2026",
        "2,HGD1,Nguyễn Văn Nam,8423000002,GD4848423000002,01/01/1978,Nam,,\"Ấp 1, Xã A\",CL01,01/03/2025,28/02/2026",
    ]
    await service.import_list("\n".join([HEADER, *rows]).encode(), "t1.csv", None)
    renewed = rows[0].replace("28/02/2026", "28/02/2027").replace("0912 345 678", "0987654321")
    older = rows[1].replace("28/02/2026", "31/12/2025")
    result = await service.import_list("\n".join([HEADER, renewed, older]).encode(), "t2.csv", None)
    assert (result.counts.added, result.counts.updated, result.counts.renewed, result.counts.older) == (0, 1, 1, 1)
    assert await db.fetchval("SELECT COUNT(*) FROM cards") == 2
    hoa = await service.repo.get("8423000001")
    assert hoa is not None and hoa.valid_to == date(2027, 2, 28) and hoa.phone == "0987654321"
    nam = await service.repo.get("8423000002")
    assert nam is not None and nam.valid_to == date(2026, 2, 28)  # an older list never moves it back
    change = await db.fetchone("SELECT old_valid_to, new_valid_to FROM card_expiry_changes")
    assert tuple(change) == ("2026-02-28", "2027-02-28")


def test_merge_rule() -> None:
    base = Card("8423000001", "A", "CL01", date(2026, 1, 31))
    assert merge_card(None, base).value == "add"
    assert merge_card(base, base).value == "same"
    assert merge_card(base, Card("8423000001", "B", "CL01", date(2026, 1, 31))).value == "update"
    assert merge_card(base, Card("8423000001", "A", "CL01", date(2027, 1, 31))).value == "renew"
    assert merge_card(base, Card("8423000001", "A", "CL01", date(2025, 1, 31))).value == "older"


# --------------------------------------------------------------------------- headers and cells


def test_headers_without_diacritics_in_any_case_below_a_title_and_semicolons() -> None:
    text = (
        "DANH SACH THE HET HAN;;;;\n"
        ";;;;\n"
        "ho va ten;MA SO BHXH;So dien thoai;ma don vi;Han the den (dd/mm/yyyy);Ngày sinh\n"
        "Trần Văn A;8423000009;+84912000009;cl02;5/1/2026;1970\n"
    )
    parsed = parse_card_file(text.encode("utf-8"), "list.CSV")
    assert parsed.header_row == 3
    (_, card), = parsed.rows
    assert card.phone == "0912000009" and card.unit_code == "CL02" and card.valid_to == date(2026, 1, 5)


def test_xlsx_with_real_dates_and_numbers_that_lost_leading_zeros() -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Danh sách"])
    sheet.append(["Họ và tên", "Mã số BHXH", "SĐT", "Mã đơn vị", "Hạn thẻ đến", "Hạn thẻ từ"])
    sheet.append(["Lê Thị B", 123456789, 912345678, "CL03", datetime(2026, 4, 30), datetime(2025, 5, 1)])
    buffer = io.BytesIO()
    book.save(buffer)
    parsed = parse_card_file(buffer.getvalue(), "x.xlsx")
    (_, card), = parsed.rows
    assert card.bhxh_code == "0123456789" and card.phone == "0912345678"
    assert card.valid_to == date(2026, 4, 30) and card.valid_from == date(2025, 5, 1)


@pytest.mark.parametrize(
    ("raw", "phone"),
    [("0912 345 678", "0912345678"), ("+84 912 345 678", "0912345678"), ("84912345678", "0912345678"),
     ("0912.345.678", "0912345678"), (912345678, "0912345678"), ("", None), (None, None),
     ("02943 123 456", "02943123456")],
)
def test_normalize_phone(raw: object, phone: str | None) -> None:
    assert normalize_phone(raw) == phone


@pytest.mark.parametrize("raw", ["12345", "abc", "+1 202 555 0100", "0123", "０９１２３４５６７８", "٠٩١٢٣٤٥٦٧٨"])
def test_bad_phone_raises(raw: str) -> None:
    with pytest.raises(ValueError):
        normalize_phone(raw)


def test_parse_day() -> None:
    assert parse_day("03/09/2026") == date(2026, 9, 3)
    assert parse_day("2026-09-03") == date(2026, 9, 3)
    assert parse_day(datetime(2026, 9, 3, 0, 0)) == date(2026, 9, 3)
    assert parse_day("") is None
    for bad in ("31/02/2026", "1985", "abc"):
        with pytest.raises(ValueError):
            parse_day(bad)


def test_digits_of_other_scripts_are_read_as_ascii_and_digit_like_signs_are_refused() -> None:
    """A list exported in another locale (Arabic-Indic or full-width digits) names the same
    codes and days: stored as ASCII. Superscripts and circled numbers are not digits."""
    rows = [
        HEADER,
        "1,H1,An,٨٤٢٣٠٠٠٠٠١,,١٩٨٥,,,,CL01,,٤٦٢٨٣",  # Arabic-Indic code, birth year, serial
        "2,H1,Bình,８４２３０００００２,,,,,,CL01,,１８/０９/２０２６",  # full-width code and date
        "3,H1,Cúc,842300000²,,,,,,CL01,,18/09/2026",  # a superscript two: no code
        "4,H1,Dũng,8423000004,,,,,,CL01,,①8/09/2026",  # a circled one: no date
    ]
    parsed = parse_card_file("\n".join(rows).encode(), "x.csv", today=date(2026, 11, 23))
    cards = {card.bhxh_code: card for _, card in parsed.rows}
    assert sorted(cards) == ["8423000001", "8423000002"]
    assert all(code.isascii() for code in cards)
    assert cards["8423000001"].valid_to == date(2026, 9, 18) and cards["8423000001"].birth_year == 1985
    assert cards["8423000002"].valid_to == date(2026, 9, 18)
    kinds = [(p.row, p.problem) for p in parsed.problems]
    assert kinds == [(2, Problem.YEAR_ONLY), (4, Problem.BAD_CODE), (5, Problem.BAD_DATE)]
    assert parse_day("٢٠٢٦-٠٩-١٨") == date(2026, 9, 18)
    with pytest.raises(ValueError):
        parse_day("18/09/２０²6")


def test_row_flaws_are_reported_by_row_number() -> None:
    rows = [
        HEADER,
        "1,H1,,8423000001,,,,,,CL01,,01/01/2026",  # no name
        "2,H1,A,84230,,,,,,CL01,,01/01/2026",  # short code
        "3,H1,B,8423000003,,,,,,,,01/01/2026",  # no unit
        "4,H1,C,8423000004,,,,,,CL01,,",  # no expiry
        "5,H1,D,8423000005,,,,,,CL01,02/02/2026,01/01/2026",  # from after to
        "6,H1,E,8423000006,,,,abc,,CL01,,01/01/2026",  # bad phone: kept without it
        "7,H1,F,8423000006,,,,,,CL01,,01/01/2026",  # same code, other data
        "8,H1,G,8423000008,,32/13/1990,,,,CL01,,01/01/2026",  # impossible birth date: kept
    ]
    parsed = parse_card_file("\n".join(rows).encode(), "x.csv")
    kinds = [(p.row, p.problem) for p in parsed.problems]
    assert kinds == [
        (2, Problem.MISSING_NAME), (3, Problem.BAD_CODE), (4, Problem.MISSING_UNIT), (5, Problem.MISSING_DATE),
        (6, Problem.BAD_PERIOD), (7, Problem.BAD_PHONE), (8, Problem.CONFLICT), (9, Problem.BAD_BIRTH),
    ]
    assert sorted(c.bhxh_code for _, c in parsed.rows) == ["8423000006", "8423000008"]


# --------------------------------------------------------------------------- broken files


@pytest.mark.parametrize(
    ("content", "name", "problem"),
    [
        (b"PK\x03\x04 this is not a zip at all", "list.xlsx", FileProblem.UNREADABLE),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 old excel", "list.xls", FileProblem.FORMAT),
        (b"%PDF-1.4", "list.pdf", FileProblem.FORMAT),
        (b"   \n  ", "list.csv", FileProblem.EMPTY),
        (HEADER.encode(), "list.csv", FileProblem.EMPTY),
        (b"a,b,c\n1,2,3\n", "list.csv", FileProblem.NO_HEADER),
        (b"x" * (10 * 1024 * 1024 + 1), "list.csv", FileProblem.TOO_LARGE),
    ],
)
async def test_broken_files_are_refused_and_nothing_is_written(
    service: CardService, db: Database, content: bytes, name: str, problem: FileProblem
) -> None:
    with pytest.raises(CardFileError) as caught:
        await service.import_list(content, name, None)
    assert caught.value.problem is problem
    assert "Chưa nhập gì" in file_error_text(caught.value.problem, caught.value.missing).plain
    assert await db.fetchval("SELECT COUNT(*) FROM cards") == 0


def test_missing_columns_are_named() -> None:
    with pytest.raises(CardFileError) as caught:
        parse_card_file("Họ và tên,Mã số BHXH,Số điện thoại,Địa chỉ\nA,8423000001,,\n".encode(), "x.csv")
    assert set(caught.value.missing) == {Column.UNIT, Column.VALID_TO}
    text = file_error_text(caught.value.problem, caught.value.missing).plain
    assert "Mã đơn vị" in text and "Hạn thẻ đến" in text


async def test_rows_outside_the_importers_scope_are_refused(service: CardService, db: Database) -> None:
    result = await service.import_list(sample("the_het_han_2026.csv"), "x.csv", ["CL01"])
    kept = {c.unit_code for _, c in result.parsed.rows}
    assert kept == {"CL01"}
    out = [p for p in result.parsed.problems if p.problem is Problem.OUT_OF_SCOPE]
    assert len(out) + len(result.parsed.rows) == 369
    assert await db.fetchval("SELECT COUNT(*) FROM cards") == len(result.parsed.rows) == 41  # 42 rows, one repeated


# --------------------------------------------------------------------------- command line


def test_cli_import_cards(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "cli.sqlite3"))
    monkeypatch.chdir(tmp_path)  # no .env of the developer
    target = tmp_path / "the_het_han_2026.csv"
    target.write_bytes(sample("the_het_han_2026.csv"))
    assert cli_main(["import", "cards", str(target)]) == 1  # some rows were refused
    out = capsys.readouterr().out
    assert "nhập 369 người" in out and "Dòng 13" in out and "<b>" not in out
    assert cli_main(["import", "cards", str(target)]) == 1
    assert "không đổi 369" in capsys.readouterr().out
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 nope")
    assert cli_main(["import", "cards", str(broken)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    # Hostile workbooks through the command line: one line each, nothing written.
    for name, content, reason in (
        ("xfd.xlsx", hostile.huge_declared_range(), "cột"),
        ("dong_cuoi.xlsx", hostile.last_row_numbered(), "200.000 dòng"),
        ("bom.xlsx", hostile.zip_bomb(200), "giải nén"),
    ):
        (tmp_path / name).write_bytes(content)
        assert cli_main(["import", "cards", str(tmp_path / name)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and reason in err and "Chưa nhập gì" in err, name
    huge = tmp_path / "huge.csv"
    with huge.open("wb") as handle:
        handle.truncate(10 * 1024 * 1024 + 1)  # sparse: refused from its size, never read
    assert cli_main(["import", "cards", str(huge)]) == 2
    assert "10 MB" in capsys.readouterr().err


# --------------------------------------------------------------------------- review fixes

SHORT = "Họ và tên,Mã số BHXH,Số điện thoại,Mã đơn vị,Hạn thẻ đến"


async def test_a_stored_card_of_another_unit_is_out_of_scope(service: CardService, db: Database) -> None:
    await service.import_list(f"{SHORT}\nTrần B,8423000777,0912000777,CL07,31/12/2026\n".encode(), "a.csv", None)
    before = await db.fetchall("SELECT * FROM cards")
    upload = (
        f"{SHORT}\n"
        "Trần B,8423000777,0987000000,CL13,31/12/2027\n"  # CL07's person, claimed for CL13
        "Lê C,8423000888,,CL09,31/12/2027\n"  # a row of another unit
    )
    result = await service.import_list(upload.encode(), "b.csv", ["CL13"])
    assert result.parsed.rows == [] and result.counts.written == 0
    first, second = result.parsed.problems
    assert (first.row, second.row) == (2, 3)
    assert (first.problem, first.column, first.value) == (second.problem, second.column, second.value)
    assert first.problem is Problem.OUT_OF_SCOPE and first.value is None
    report = import_report_text("b.csv", result).plain
    assert "CL07" not in report and "CL09" not in report
    assert [tuple(r) for r in await db.fetchall("SELECT * FROM cards")] == [tuple(r) for r in before]
    # The repository holds the line even when called directly, in the same transaction.
    moved = Card("8423000777", "Trần B", "CL13", date(2027, 12, 31), phone="0987000000")
    counts = await service.repo.import_cards([moved], "direct", NOW, scope=["CL13"])
    assert counts.out_of_scope == ("8423000777",) and counts.written == 0
    stored = await service.repo.get("8423000777")
    assert stored is not None and (stored.unit_code, stored.phone) == ("CL07", "0912000777")


def test_cli_report_masks_codes_and_phones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "cli.sqlite3"))
    monkeypatch.chdir(tmp_path)
    target = tmp_path / "sai.csv"
    target.write_text(f"{SHORT}\nA,84000000012,,CL01,31/12/2026\nB,8423000111,091234567,CL01,31/12/2026\n")
    assert cli_main(["import", "cards", str(target)]) == 1
    out = capsys.readouterr().out
    assert "84000000012" not in out and "091234567" not in out
    assert "84******012" in out and "0912***567" in out


def test_a_channel_row_cap_stops_reading_early() -> None:
    text = "\n".join([SHORT, *(f"N{i},{8400000000 + i},,CL01,31/12/2026" for i in range(31))])
    assert len(parse_card_file(text.encode(), "x.csv", max_rows=31).rows) == 31
    with pytest.raises(CardFileError) as caught:
        parse_card_file(text.encode(), "x.csv", max_rows=30)
    assert caught.value.problem is FileProblem.TOO_MANY_FOR_CHAT and caught.value.limit == 30
    message = file_error_text(caught.value.problem, limit=caught.value.limit).plain
    assert "bhxh-bot import cards" in message and "Chưa nhập gì" in message
    assert CHAT_MAX_ROWS == 20_000


async def test_reminders_back_on_is_one_transaction(service: CardService, db: Database) -> None:
    await db.execute(
        "INSERT INTO reminder_prefs(channel, user_id, opted_out, changed_at, changed_on)"
        " VALUES ('telegram', 7, 1, '2026-11-01T09:00:00+07:00', '2026-11-01')"
    )
    await db.execute(
        "INSERT INTO reminder_blocks(channel, user_id, blocked_at, blocked_on)"
        " VALUES ('telegram', 7, '2026-11-02T09:00:00+07:00', '2026-11-02')"
    )
    assert await service.repo.resume_reminders(7, NOW, channel="telegram") is True
    assert await db.fetchval("SELECT opted_out FROM reminder_prefs WHERE user_id = 7") == 0
    assert await db.fetchval("SELECT cleared_at FROM reminder_blocks WHERE user_id = 7") == NOW.isoformat()
    assert await service.repo.resume_reminders(7, NOW, channel="telegram") is False


# --------------------------------------------------------------------------- bounded reading


def _refusal(data: bytes, name: str = "x.xlsx", max_rows: int = CHAT_MAX_ROWS) -> CardFileError:
    with pytest.raises(CardFileError) as caught:
        parse_card_file(data, name, max_rows)
    return caught.value


@pytest.mark.parametrize("max_rows", [CHAT_MAX_ROWS, MAX_ROWS])
def test_a_sheet_declared_up_to_xfd120000_is_refused_before_reading(max_rows: int) -> None:
    data = hostile.huge_declared_range()
    assert len(data) < 4096
    error = _refusal(data, max_rows=max_rows)
    assert error.problem in (FileProblem.SHEET_TOO_BIG, FileProblem.TOO_MANY_COLUMNS)
    text = file_error_text(error.problem, error.missing, error.limit).plain
    assert "Chưa nhập gì" in text and ("cột" in text or "dòng" in text)


def test_a_row_numbered_1048576_is_refused_whether_declared_or_not() -> None:
    declared = _refusal(hostile.last_row_numbered("A1:D1048576"))
    assert declared.problem is FileProblem.SHEET_TOO_BIG and declared.limit == CHAT_MAX_ROWS
    assert "20.000 dòng" in file_error_text(declared.problem, limit=declared.limit).plain
    hidden = _refusal(hostile.last_row_numbered(None), max_rows=MAX_ROWS)
    assert hidden.problem is FileProblem.SHEET_TOO_BIG


def test_an_empty_formatted_last_row_costs_nothing_and_the_list_reads_right() -> None:
    parsed = parse_card_file(hostile.last_row_numbered(None, with_value=False), "x.xlsx", CHAT_MAX_ROWS)
    assert [(n, c.bhxh_code, c.valid_to) for n, c in parsed.rows] == [(2, "8400000001", date(2026, 12, 31))]


def test_millions_of_shared_strings_are_refused_declared_or_counted() -> None:
    declared = _refusal(hostile.many_shared_strings(2_000_000), max_rows=MAX_ROWS)
    assert declared.problem is FileProblem.TOO_MANY_STRINGS and declared.limit == 1_000_000
    counted = _refusal(hostile.many_shared_strings(300_000, declared=False), max_rows=CHAT_MAX_ROWS)
    assert counted.problem is FileProblem.TOO_MANY_STRINGS and counted.limit == (CHAT_MAX_ROWS + 1_000) * 12
    assert "Chưa nhập gì" in file_error_text(counted.problem, limit=counted.limit).plain


def test_a_zip_bomb_is_refused_unopened() -> None:
    data = hostile.zip_bomb(200)
    assert len(data) < 1024 * 1024
    for max_rows in (CHAT_MAX_ROWS, MAX_ROWS):
        error = _refusal(data, max_rows=max_rows)
        assert error.problem is FileProblem.UNPACKED_TOO_LARGE
    assert "giải nén" in file_error_text(FileProblem.UNPACKED_TOO_LARGE).plain


def test_a_sheet_of_empty_cells_is_bounded_by_the_cell_budget() -> None:
    error = _refusal(hostile.many_cells(300_000))
    assert error.problem is FileProblem.SHEET_TOO_BIG


def test_too_many_columns_or_rows_in_a_csv_are_refused() -> None:
    wide = (HEADER + "," + ",".join(f"c{i}" for i in range(300)) + "\n").encode()
    assert _refusal(wide, "x.csv").problem is FileProblem.TOO_MANY_COLUMNS
    tall = "\n".join([HEADER] + [f"{i},,A,{8400000000 + i},,,,,,CL13,,31/12/2026" for i in range(31)]).encode()
    assert _refusal(tall, "x.csv", max_rows=30).problem is FileProblem.TOO_MANY_FOR_CHAT


def test_a_list_is_read_by_content_whatever_its_name() -> None:
    reference = parse_card_file(sample("the_het_han_2026.xlsx"), "the_het_han_2026.xlsx")
    no_extension = parse_card_file(sample("the_het_han_2026.xlsx"), "danh_sach")
    as_text = parse_card_file(sample("the_het_han_2026.csv"), "danh_sach.txt")
    assert no_extension.rows == reference.rows
    assert [c for _, c in as_text.rows] == [c for _, c in reference.rows]
    assert _refusal(b"%PDF-1.4 whatever", "danh_sach.csv").problem is FileProblem.FORMAT
    assert _refusal(b"\x89PNG\r\n\x1a\n\x00\x00", "danh_sach").problem is FileProblem.FORMAT


# --------------------------------------------------------------------------- encodings


def _encodings() -> dict[str, bytes]:
    text = sample("the_het_han_2026.csv").decode("utf-8-sig")
    tab = "\n".join("\t".join(row) for row in csv.reader(io.StringIO(text)))
    return {
        "utf-8 without BOM": text.encode("utf-8"),
        "utf-16 LE (Excel Unicode text)": codecs.BOM_UTF16_LE + tab.encode("utf-16-le"),
        "utf-16 BE": codecs.BOM_UTF16_BE + text.encode("utf-16-be"),
        "utf-16 LE without BOM": text.encode("utf-16-le"),
        "windows-1258": hostile.to_cp1258(text.replace("\r\n", "\n")),
        "semicolons": text.replace(",", ";").encode("utf-8"),
    }


@pytest.mark.parametrize("encoding", list(_encodings()))
def test_every_usual_encoding_gives_the_same_cards(encoding: str) -> None:
    reference = parse_card_file(sample("the_het_han_2026.csv"), "the_het_han_2026.csv")
    data = _encodings()[encoding]
    if encoding == "semicolons":  # addresses hold commas: quoted cells become two cells, so compare names
        parsed = parse_card_file(data, "x.csv")
        assert {c.full_name for _, c in parsed.rows} == {c.full_name for _, c in reference.rows}
        return
    parsed = parse_card_file(data, "danh_sach.txt")
    assert [c for _, c in parsed.rows] == [c for _, c in reference.rows]
    assert all(unicodedata.is_normalized("NFC", c.full_name) for _, c in parsed.rows)


def test_windows_1258_decomposed_tone_marks_become_nfc() -> None:
    raw = hostile.to_cp1258("Nguyễn Thị Hường")
    assert "\u0303".encode("cp1258") in raw  # the tone is a separate combining mark in the file
    data = hostile.to_cp1258(HEADER + "\n1,,Nguyễn Thị Hường,8423000001,,,,,Ấp Một,CL13,,31/12/2026\n")
    (_, card), = parse_card_file(data, "x.csv").rows
    assert card.full_name == "Nguyễn Thị Hường" and unicodedata.is_normalized("NFC", card.full_name)
    assert card.address == "Ấp Một"


async def test_reimporting_the_same_list_in_another_encoding_changes_nothing(service: CardService, db: Database) -> None:
    first = await service.import_list(sample("the_het_han_2026.csv"), "the_het_han_2026.csv", None)
    assert first.counts.added == 369
    snapshot = [tuple(r) for r in await db.fetchall("SELECT * FROM cards ORDER BY bhxh_code")]
    for encoding in ("windows-1258", "utf-16 LE (Excel Unicode text)", "utf-16 BE"):
        again = await service.import_list(_encodings()[encoding], "danh_sach.txt", None)
        counts = again.counts
        assert (counts.added, counts.updated, counts.renewed, counts.unchanged) == (0, 0, 0, 369), encoding
    assert [tuple(r) for r in await db.fetchall("SELECT * FROM cards ORDER BY bhxh_code")] == snapshot


# --------------------------------------------------------------------------- dates


def test_excel_date_serials_are_dates_with_the_1900_leap_bug() -> None:
    assert parse_day(45291) == date(2023, 12, 31)
    assert parse_day(45291.75) == date(2023, 12, 31)
    assert parse_day("46387") == date(2026, 12, 31)
    assert parse_day(59) == date(1900, 2, 28)
    assert parse_day(61) == date(1900, 3, 1)  # Excel's 29/02/1900 (serial 60) never was
    for impossible in (60, 0, -3, True):
        with pytest.raises(ValueError):
            parse_day(impossible)


def test_a_date_column_that_lost_its_format_is_read() -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Họ và tên", "Mã số BHXH", "Mã đơn vị", "Hạn thẻ từ", "Hạn thẻ đến", "Ngày sinh"])
    sheet.append(["An", "8423000001", "CL13", 45992, 46387, 31048])  # plain numbers, no date format
    sheet.append(["Bình", "8423000002", "CL13", "45992", "46387", "31048"])  # the same typed as text
    buffer = io.BytesIO()
    workbook.save(buffer)
    parsed = parse_card_file(buffer.getvalue(), "x.xlsx", today=date(2026, 11, 23))
    assert parsed.problems == []
    for _, card in parsed.rows:
        assert (card.valid_from, card.valid_to, card.birth_date) == (date(2025, 12, 1), date(2026, 12, 31), date(1985, 1, 1))


def test_a_date_column_that_lost_its_format_counts_from_1904_in_a_1904_workbook() -> None:
    # Excel for Mac's old date system: the same days are 1462 serials lower than in 1900's.
    workbook = openpyxl.Workbook()
    workbook.epoch = openpyxl.utils.datetime.CALENDAR_MAC_1904
    sheet = workbook.active
    sheet.append(["Họ và tên", "Mã số BHXH", "Mã đơn vị", "Hạn thẻ từ", "Hạn thẻ đến", "Ngày sinh"])
    sheet.append(["An", "8423000001", "CL13", 44530, 44925, 29586])  # plain numbers, no date format
    buffer = io.BytesIO()
    workbook.save(buffer)
    parsed = parse_card_file(buffer.getvalue(), "x.xlsx", today=date(2026, 11, 23))
    assert parsed.problems == []
    ((_, card),) = parsed.rows
    assert (card.valid_from, card.valid_to, card.birth_date) == (date(2025, 12, 1), date(2026, 12, 31), date(1985, 1, 1))


def test_implausible_dates_are_flagged_not_accepted() -> None:
    rows = [
        HEADER,
        "1,,An,8423000001,,01/01/1985,,,,CL13,,31/12/9999",  # "never expires": refused
        "2,,Bình,8423000002,,01/01/1985,,,,CL13,,31/12/1899",  # before any card
        "3,,Chi,8423000003,,01/01/1800,,,,CL13,,31/12/2026",  # birth before 1900: warning only
        "4,,Dũng,8423000004,,01/01/2030,,,,CL13,,31/12/2026",  # born in the future: warning
        "5,,Em,8423000005,,,,,,CL13,,31/10/2036",  # nearly ten years ahead: fine
    ]
    parsed = parse_card_file("\n".join(rows).encode(), "x.csv", today=date(2026, 11, 23))
    found = [(p.row, p.problem, p.column, p.value) for p in parsed.problems]
    assert found == [
        (2, Problem.IMPLAUSIBLE_DATE, Column.VALID_TO, "31/12/9999"),
        (3, Problem.IMPLAUSIBLE_DATE, Column.VALID_TO, "31/12/1899"),
        (4, Problem.BAD_BIRTH, Column.BIRTH, "01/01/1800"),
        (5, Problem.BAD_BIRTH, Column.BIRTH, "01/01/2030"),
    ]
    assert [c.bhxh_code for _, c in parsed.rows] == ["8423000003", "8423000004", "8423000005"]
    assert parsed.rows[0][1].birth_date is None
    from bot.chat.texts.cards import problem_text

    assert "không thể là hạn thẻ BHYT (31/12/9999)" in problem_text(parsed.problems[0])


def test_a_utf8_list_with_a_stray_byte_is_refused_as_unreadable_not_garbled() -> None:
    # One byte that is valid in no encoding the bot reads (0x81 is undefined in Windows-1258
    # too) and one that Windows-1258 would accept (0xC3 alone): neither may be read as
    # Windows-1258 mojibake ("Nguyá»…n"); the person is told to save as CSV UTF-8.
    good = sample("the_het_han_2026.csv")
    assert good.decode("utf-8")
    for stray in (b"\x81", b"\xc3"):
        cut = good.index(b"\n", len(good) // 2) + 1
        broken = good[:cut] + stray + good[cut:]
        with pytest.raises(CardFileError) as caught:
            parse_card_file(broken, "danh_sach.csv", today=date(2026, 11, 23))
        assert caught.value.problem is FileProblem.UNREADABLE
        assert ".csv (UTF-8)" in file_error_text(caught.value.problem).plain
