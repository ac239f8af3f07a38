"""Importers of units, targets and team rosters: real files (CSV, XLSX) into a real SQLite file."""

from __future__ import annotations

import codecs
import io
import unicodedata
from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook

from bot.cli import main as cli_main
from bot.domain.clock import ManualClock
from bot.imports.organisation import (
    ImportFileError,
    header_key,
    import_targets,
    import_teams,
    import_units,
    parse_count,
    parse_day,
    parse_month,
    parse_pct,
    read_rows,
    sample_bytes,
)
from devtools import hostile_files as hostile
from devtools.hostile_files import to_cp1258
from storage.sqlite.db import Database
from tests.conftest import DEFAULT_NOW
from tests.storage_engines import opened_storage


@pytest.fixture
async def storage(tmp_path: Path):
    async with opened_storage(tmp_path / "org.sqlite3") as opened:
        yield opened


@pytest.fixture
def repos(storage):
    """The SQLite engine's handle (rows checked with SQL), the stores, the clock."""
    return storage.db, storage.units, storage.figures, storage.teams, ManualClock(DEFAULT_NOW)


def xlsx(rows: list[list[object]], percent_cols: tuple[int, ...] = ()) -> bytes:
    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    for col in percent_cols:
        for cell in ws.iter_cols(min_col=col, max_col=col):
            for c in cell:
                if isinstance(c.value, float):
                    c.number_format = "0.00%"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


async def dump(db: Database) -> list[tuple]:
    rows = []
    for table in ("units", "unit_baselines", "unit_targets", "teams", "team_rosters", "members"):
        for r in await db.fetchall(f"SELECT * FROM {table} ORDER BY 1, 2"):
            values = tuple(r)
            if table in ("units", "members"):  # timestamps move with the clock
                values = tuple(v for v, k in zip(values, r.keys()) if k not in ("updated_at", "created_at"))
            rows.append((table, *values))
    return rows


def test_header_keys_ignore_case_diacritics_and_punctuation() -> None:
    assert header_key("Mã đơn vị") == header_key("MA DON VI") == header_key("ma_don_vi") == "ma don vi"
    assert header_key("Dân số (người)") == "dan so nguoi"
    assert header_key("Lực lượng lao động") == "luc luong lao dong"


def test_vietnamese_numbers_and_dates() -> None:
    assert parse_count("13.737") == 13737 and parse_count("13 737") == 13737 and parse_count("") is None
    assert parse_pct("95,00%") == parse_pct("95") and str(parse_pct("22.69")) == "22.69"
    assert parse_month("Trong tháng 6/2023") == "2023-06" and parse_month("2026-11") == "2026-11"
    for bad in ("12.5", "-3", "abc", "(75)", "1e6"):
        with pytest.raises(ValueError):
            parse_count(bad)
    for bad in ("101", "9x", "1,2,3"):
        with pytest.raises(ValueError):
            parse_pct(bad)
    with pytest.raises(ValueError):
        parse_month("13/2026")


async def test_sample_trees_load_with_their_figures(repos) -> None:
    db, units, figures, _, clock = repos
    report = await import_units("units_cang_long.csv", units, clock, data=sample_bytes("units_cang_long.csv"))
    assert (report.rows_read, report.rows_ok, report.errors) == (15, 15, [])
    assert report.counts == {"units_created": 15, "units_updated": 0, "baselines": 56, "targets": 60}
    cl06 = await units.get("CL06")
    assert cl06 is not None and (cl06.name, cl06.parent_code, cl06.population, cl06.labour_force) == (
        "Xã Tân An", "CL", 10397, 5302,
    )
    district = await units.get("CL")
    assert district is not None and district.population is None  # rolled up from the communes
    baselines = {(b.unit_code, b.scheme): b for b in await figures.latest_baselines()}
    assert baselines[("CL06", "bhxh_bb")].participants == 793
    assert baselines[("CL06", "bhyt")].as_of == date(2023, 6, 30)
    targets = {(t.unit_code, t.scheme): t for t in await figures.targets()}
    assert str(targets[("CL", "bhxh")].target_pct) == "22.69" and targets[("CL", "bhxh")].period == "2023"
    report = await import_units("units_ngoc_phung.csv", units, clock, data=sample_bytes("units_ngoc_phung.csv"))
    assert report.counts["targets"] == 8
    targets = {(t.unit_code, t.scheme): t for t in await figures.targets("2025")}
    assert targets[("NP06", "bhyt")].target_count == 1556
    assert "Nhập đơn vị từ units_ngoc_phung.csv: đọc 8 dòng" in report.render()


async def test_xlsx_with_title_rows_vietnamese_headers_children_first_and_bad_rows(repos) -> None:
    db, units, figures, _, clock = repos
    data = xlsx(
        [
            ["DANH SÁCH ĐƠN VỊ VÀ CHỈ TIÊU NĂM 2025"],
            [None],
            ["STT", "MÃ ĐƠN VỊ", "Tên đơn vị", "Mã đơn vị cấp trên", "Cấp", "Dân số", "Chỉ tiêu BHYT (%)", "Số người tham gia BHYT", "Tính đến ngày"],
            [1, "X01", "Xã Một", "H", "xã", "1.200", 0.95, 1000, "31/12/2024"],  # child before parent
            [2, "H", "Huyện Mẫu", None, "huyện", None, 0.95, None, "31/12/2024"],
            [3, "X02", "Xã Hai", "H", "xã", "nhiều", 0.95, 10, "31/12/2024"],  # bad population
            [4, "X03", "", "H", "xã", 5, None, None, None],  # no name
            [5, "X04", "Xã Bốn", "KHONGCO", "xã", 5, None, None, None],  # orphan
            [6, "T01", "Thôn Một", "X01", "thôn", 300, None, None, None],
            [7, "X01", "Xã Một lần nữa", "H", "xã", 1, None, None, None],  # duplicate code
            [8, "X05", "Xã Năm", "H", "xã", 7, None, 5, None],  # participants without a date
            [9, "A", "Vòng A", "B", "xã", None, None, None, None],
            [10, "B", "Vòng B", "A", "xã", None, None, None, None],
            [11, "X06", "Xã 😀 <b>Sáu</b>", "H", "xã", "2.000", "101", None, None],  # pct > 100
            [None, None, "Tổng cộng", None, None, "1.505", None, None, None],
        ],
        percent_cols=(7,),
    )
    report = await import_units("donvi.xlsx", units, clock, data=data)
    assert report.header_row == 3
    errors = {e.row: e.message for e in report.errors}
    assert set(errors) == {6, 7, 8, 10, 11, 12, 13, 14}, errors
    assert "dân số" in errors[6] and "tên đơn vị bị trống" in errors[7]
    assert "KHONGCO" in errors[8] and "trùng với dòng 4" in errors[10]
    assert "thiếu ngày số liệu" in errors[11] and "vòng lặp" in errors[12] and "vòng lặp" in errors[13]
    assert "0 đến 100" in errors[14]
    assert report.rows_ok == 3
    assert [u.code for u in await units.subtree("H")] == ["H", "T01", "X01"]
    targets = {(t.unit_code, t.scheme): t for t in await figures.targets("2024")}
    assert str(targets[("X01", "bhyt")].target_pct) == "95"
    assert await units.get("X02") is None and await units.get("A") is None
    text = report.render()
    assert "Dòng 6:" in text and "bỏ qua" in text


async def test_reimport_is_idempotent_including_rosters(repos) -> None:
    db, units, figures, teams, clock = repos
    for name in ("units_cang_long.csv", "units_ngoc_phung.csv"):
        await import_units(name, units, clock, data=sample_bytes(name))
    await import_teams("teams_cang_long.csv", units, teams, clock, data=sample_bytes("teams_cang_long.csv"))
    before = await dump(db)
    for name in ("units_cang_long.csv", "units_ngoc_phung.csv"):
        again = await import_units(name, units, clock, data=sample_bytes(name))
        assert again.counts["units_created"] == 0
    again = await import_teams("teams_cang_long.csv", units, teams, clock, data=sample_bytes("teams_cang_long.csv"))
    assert again.counts["teams_created"] == 0 and again.counts["members_created"] == 0
    assert await dump(db) == before


async def test_a_targets_only_file_keeps_populations(repos) -> None:
    db, units, figures, _, clock = repos
    await import_units("units_cang_long.csv", units, clock, data=sample_bytes("units_cang_long.csv"))
    data = "ma don vi;ten don vi\nCL06;Xã Tân An (mới)\n".encode()
    report = await import_units("ten.csv", units, clock, data=data)
    assert report.errors == []
    cl06 = await units.get("CL06")
    assert cl06 is not None and cl06.name == "Xã Tân An (mới)" and cl06.population == 10397
    assert cl06.parent_code == "CL"  # no parent column: keep the stored parent


async def test_targets_long_and_wide_shapes(repos) -> None:
    db, units, figures, _, clock = repos
    await import_units("units_cang_long.csv", units, clock, data=sample_bytes("units_cang_long.csv"))
    long = (
        "Mã đơn vị,Loại bảo hiểm,Năm,Tỷ lệ (%),Số người\n"
        "CL06,BHYT,2026,96,\n"
        "CL06,BHXH tự nguyện,2026,\"9,5%\",\n"
        "CL06,bao hiem that nghiep,2026,,900\n"
        "CL99,BHYT,2026,95,\n"
        "CL07,BHYX,2026,95,\n"
        "CL07,BHYT,,95,\n"
        "CL07,BHYT,2026,,\n"
        "CL06,BHYT,2026,97,\n"
    ).encode()
    report = await import_targets("chitieu.csv", units, figures, data=long)
    errors = {e.row: e.message for e in report.errors}
    assert set(errors) == {5, 6, 7, 8, 9}, errors
    assert "CL99" in errors[5] and "BHYT, BHXH" in errors[6] and "thiếu kỳ" in errors[7]
    assert "thiếu tỷ lệ" in errors[8] and "trùng với dòng 2" in errors[9]
    got = {(t.scheme, str(t.target_pct), t.target_count) for t in await figures.targets("2026")}
    assert got == {("bhyt", "96", None), ("bhxh_tn", "9.5", None), ("bhtn", "None", 900)}
    wide = "code,bhyt_target_pct,bhtn_target_count\nCL07,96.5,800\n".encode()
    report = await import_targets("wide.csv", units, figures, data=wide, period="2027")
    assert report.errors == [] and report.counts == {"targets": 2}
    # Re-import: same rows, nothing new.
    await import_targets("wide.csv", units, figures, data=wide, period="2027")
    assert len(await figures.targets("2027")) == 2


async def test_teams_in_seed_002_layout_with_section_rows_and_merged_cells(repos) -> None:
    db, units, _, teams, clock = repos
    await import_units("units_cang_long.csv", units, clock, data=sample_bytes("units_cang_long.csv"))
    data = xlsx(
        [
            ["DANH SÁCH CÁC NHÓM PHÁT TRIỂN NGƯỜI THAM GIA BHXH TỰ NGUYỆN, BHYT"],
            ["Nhóm", "Họ Và tên", "Chức danh, đơn vị công tác", "Số điện thoại", "Ghi chú"],
            ["Trong tháng 6/2023", None, None, None, None],
            ["Nhóm 1", "Phạm Thị Biên", "Phó trưởng phòng QLT-ST", "0936403569", "Trưởng nhóm"],
            [None, "Phùng Minh Chiến", "Nhân viên thu - Bưu điện", "0911164088", None],
            ["Nhóm 2", "Nguyễn Thủy Phương", "Viên chức BHXH tỉnh", "0987680569", "Trưởng nhóm"],
            [None, "Hoàng Thị Ngọc", "Nhân viên thu - Bưu điện", "0916766196", None],
            ["Trong tháng 8/2023", None, None, None, None],
            ["Nhóm 1", "Nguyễn Thủy Phương", "Viên chức BHXH tỉnh", "0987680569", "Trưởng nhóm"],
            [None, "Nguyễn Thị Kim Loan", "Nhân viên thu - Viettel", "0981091185", None],
            [None, "", "", "", ""],
            [None, "X" * 300, None, None, None],  # name too long
        ]
    )
    report = await import_teams("nhom.xlsx", units, teams, clock, data=data, unit_code="CL06")
    assert [e.row for e in report.errors] == [12] and "120" in report.errors[0].message
    assert report.counts == {"teams_created": 2, "teams_updated": 0, "members_created": 5, "roster_rows": 6}
    assert any("số điện thoại không được lưu" in n for n in report.notes)
    team1 = await teams.by_code("CL06-NHOM1")
    assert team1 is not None and team1.name == "Nhóm 1"
    june = await teams.roster(team1.id, "2023-06")
    august = await teams.roster(team1.id, "2023-08")
    assert [(e.member.full_name, e.is_leader) for e in june] == [("Phạm Thị Biên", True), ("Phùng Minh Chiến", False)]
    assert [(e.member.full_name, e.is_leader) for e in august] == [("Nguyễn Thủy Phương", True), ("Nguyễn Thị Kim Loan", False)]
    # The same person in two teams in two months is one member, a team leader.
    phuong = [e.member for e in august if e.is_leader][0]
    team2 = await teams.by_code("CL06-NHOM2")
    assert team2 is not None and phuong.id in [e.member.id for e in await teams.roster(team2.id, "2023-06")]
    assert phuong.role.value == "team_leader" and phuong.user_id is None
    assert (await teams.team_of(phuong.id, "2023-08")).code == "CL06-NHOM1"  # type: ignore[union-attr]
    assert phone_free(await db.fetchall("SELECT * FROM members"))


def phone_free(rows: list) -> bool:
    return not any("0936403569" in str(tuple(r)) for r in rows)


async def test_teams_errors_unknown_unit_and_missing_month(repos, storage) -> None:
    db, units, _, teams, clock = repos
    await import_units("units_cang_long.csv", units, clock, data=sample_bytes("units_cang_long.csv"))
    data = "Tháng,Mã đơn vị,Nhóm,Họ và tên,Trưởng nhóm\n11/2026,CL99,Tổ 1,An,x\n,CL06,Tổ 1,Bình,\n13/2026,CL06,Tổ 1,Cường,\n11/2026,CL06,Tổ 1,Dung,có\n".encode()
    report = await import_teams("to.csv", units, teams, clock, data=data)
    errors = {e.row: e.message for e in report.errors}
    assert set(errors) == {2, 3, 4} and "CL99" in errors[2] and "thiếu tháng" in errors[3] and "tháng" in errors[4]
    team = await teams.by_code("CL06-TO1")
    assert team is not None
    assert [(e.member.full_name, e.is_leader) for e in await teams.roster(team.id, "2026-11")] == [("Dung", True)]
    assert (await storage.members.in_units(["CL06"]))[0].member.role.value == "team_leader"


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"", "a.csv", "rỗng"),
        (b"\x00\x01\x02garbage", "a.csv", "không phải"),
        (b"PK\x03\x04not really a zip", "a.xlsx", "Excel"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 old", "a.xls", ".xls"),
        ("họ tên,tuổi\nAn,3\n".encode(), "a.csv", "tiêu đề"),
        (("code," * 300 + "x\n").encode(), "a.csv", "cột"),
        (hostile.huge_declared_range(), "a.xlsx", "cột"),
        (hostile.last_row_numbered(), "a.xlsx", "200.000 dòng"),
        (hostile.zip_bomb(200), "a.xlsx", "giải nén"),
        (hostile.many_shared_strings(1_100_000), "a.xlsx", "ô chữ"),
        (b"\x89PNG\r\n\x1a\n....", "a.xlsx", "Excel"),
    ],
)
async def test_broken_files_are_refused_with_one_clear_line(repos, data: bytes, name: str, message: str) -> None:
    db, units, _, _, clock = repos
    with pytest.raises(ImportFileError) as info:
        await import_units(name, units, clock, data=data)
    assert message in str(info.value)
    assert await units.count() == 0


def test_read_rows_gives_spreadsheet_row_numbers_for_multiline_csv(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text('code,name\nA,"Tên\nhai dòng"\nB,Bê\n', encoding="utf-8")
    assert [n for n, _ in read_rows(path)] == [1, 2, 4]


def test_cli_import_units_targets_teams(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "cli.sqlite3"))
    units_csv = tmp_path / "units.csv"
    units_csv.write_bytes(sample_bytes("units_cang_long.csv"))
    assert cli_main(["import", "units", str(units_csv)]) == 0
    assert "15 đơn vị mới" in capsys.readouterr().out
    teams_csv = tmp_path / "teams.csv"
    teams_csv.write_bytes(sample_bytes("teams_cang_long.csv"))
    assert cli_main(["import", "teams", str(teams_csv)]) == 0
    assert "3 nhóm mới" in capsys.readouterr().out
    targets_csv = tmp_path / "targets.csv"
    targets_csv.write_text("code,scheme,target_pct\nCL06,bhyt,96\nCL99,bhyt,95\n", encoding="utf-8")
    assert cli_main(["import", "targets", str(targets_csv), "--period", "2026"]) == 1  # one bad row
    out = capsys.readouterr().out
    assert "Dòng 3" in out and "CL99" in out
    assert cli_main(["import", "units", str(tmp_path / "missing.csv")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "không có tệp" in err and "Traceback" not in err
    assert cli_main(["import", "units", str(units_csv), "--as-of", "31/02/2023"]) == 2
    assert "--as-of" in capsys.readouterr().err


async def test_units_in_windows_1258_or_utf16_load_exactly_like_utf8(repos) -> None:
    db, units, _, _, clock = repos
    text = sample_bytes("units_cang_long.csv").decode("utf-8-sig")
    await import_units("units.csv", units, clock, data=text.encode("utf-8"))
    reference = await dump(db)
    again = await import_units("units.csv", units, clock, data=text.encode("utf-8"))
    for data in (to_cp1258(text), codecs.BOM_UTF16_LE + text.replace(",", "\t").encode("utf-16-le")):
        report = await import_units("units.txt", units, clock, data=data)
        assert report.errors == [] and report.counts == again.counts and report.counts["units_created"] == 0
        assert await dump(db) == reference  # same names, byte for byte (NFC), same figures
    names = [r[2] for r in reference if r[0] == "units"]
    assert "Xã Tân An" in names and all(unicodedata.is_normalized("NFC", n) for n in names)


def test_an_excel_date_serial_reads_as_a_date_and_far_past_years_are_refused() -> None:
    assert parse_day("45107") == date(2023, 6, 30)
    assert parse_day("45107.0") == date(2023, 6, 30)
    with pytest.raises(ValueError):
        parse_day("30/06/1023")
