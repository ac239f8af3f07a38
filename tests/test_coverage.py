"""Coverage against targets reproduces seed 003 (Càng Long) and seed 001 (Ngọc Phụng).

The sample CSVs go through the real importer into a real SQLite file; coverage is computed by
the service from what was stored, plus enrolments logged through the enrolment repository.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from bot.domain.clock import ManualClock
from bot.domain.coverage import (
    BaselineFigure,
    Measure,
    TargetSpec,
    UnitInput,
    compute_coverage,
    format_coverage_pct,
    format_remaining,
    planned_rates,
    rounded_pct,
)
from bot.domain.records import CLI_ACTOR, NewEnrolment, StatusActor
from bot.domain.roles import Role
from bot.imports.organisation import import_units, sample_bytes
from bot.services.access import AccessService
from bot.services.organisation import OrganisationService
from storage.contract import EnrolmentStore
from storage.engines import open_storage
from tests.conftest import DEFAULT_NOW
from tests.storage_engines import EngineSettings, engine_url

# Seed 003, table 1 (BHYT): coverage %, % of target, still to mobilise.
BHYT = {
    "CL01": ("93,08%", "97,98%", "263"),
    "CL02": ("93,14%", "98,04%", "202"),
    "CL03": ("95,98%", "101,03%", "(75)"),
    "CL04": ("96,34%", "101,41%", "(188)"),
    "CL05": ("79,75%", "83,95%", "2.362"),
    "CL06": ("90,42%", "95,18%", "476"),
    "CL07": ("89,17%", "93,87%", "677"),
    "CL08": ("90,75%", "95,52%", "627"),
    "CL09": ("82,03%", "86,35%", "1.608"),
    "CL10": ("90,44%", "95,20%", "211"),
    "CL11": ("87,84%", "92,46%", "629"),
    "CL12": ("90,34%", "95,09%", "313"),
    "CL13": ("91,04%", "95,83%", "302"),
    "CL14": ("81,53%", "85,82%", "1.358"),
    "CL": ("89,11%", "93,80%", "8.766"),
}
# Seed 003, table 2 (BHXH, of the labour force): total coverage (col 9), voluntary coverage
# (10), total % of target (11), voluntary % of target (12), compulsory (13) and voluntary (14)
# still to mobilise. The seed prints the coverage columns without "%".
BHXH = {
    "CL01": ("22,32%", "5,81%", "85,63%", "86,71%", "200", "62"),
    "CL02": ("15,35%", "4,14%", "76,43%", "59,43%", "106", "156"),
    "CL03": ("13,74%", "3,49%", "73,26%", "63,14%", "117", "80"),
    "CL04": ("20,01%", "3,15%", "95,37%", "77,30%", "3", "66"),
    "CL05": ("19,27%", "4,79%", "84,23%", "76,70%", "170", "115"),
    "CL06": ("19,20%", "4,24%", "76,01%", "52,72%", "119", "202"),
    "CL07": ("19,19%", "5,35%", "83,64%", "77,64%", "131", "91"),
    # Seed prints 347 for compulsory: inconsistent with its own columns (23,29% x 7.524 -
    # 1.355 = 397,3; 5,02% x 7.524 - 320 = 57,7; 397 - 58 = 339), see test below.
    "CL08": ("18,01%", "4,25%", "77,33%", "84,72%", "339", "58"),
    "CL09": ("20,89%", "5,73%", "84,25%", "81,02%", "162", "85"),
    "CL10": ("25,15%", "6,28%", "105,27%", "96,71%", "(35)", "5"),
    "CL11": ("20,16%", "4,10%", "85,28%", "72,12%", "85", "71"),
    "CL12": ("17,07%", "4,24%", "75,64%", "65,92%", "113", "75"),
    "CL13": ("24,08%", "7,04%", "93,50%", "93,25%", "45", "20"),
    "CL14": ("11,34%", "2,84%", "71,52%", "59,30%", "132", "100"),
    # Total row: the seed prints 74,72% for the voluntary % of target, i.e. 4,61 / 6,17 from
    # rounded figures (as its prose does for 83,25%, which its own table prints as 83,27%);
    # unrounded, as every other cell of the table, it is 74,68%. Compulsory: the seed's 1.695
    # sums its column including Bình Phú's 347; 2.876 - 1.186 = 1.690 by the column's rule.
    "CL": ("18,89%", "4,61%", "83,27%", "74,68%", "1.690", "1.186"),
}
# Seed 003, table 3 (BHTN).
BHTN = {
    "CL01": ("16,23%", "86,65%", "175"),
    "CL02": ("10,86%", "89,43%", "71"),
    "CL03": ("9,74%", "82,36%", "82"),
    "CL04": ("16,58%", "102,74%", "(32)"),
    "CL05": ("14,23%", "89,28%", "135"),
    "CL06": ("14,58%", "90,22%", "84"),
    "CL07": ("13,50%", "89,28%", "96"),
    "CL08": ("13,49%", "76,43%", "313"),
    "CL09": ("14,84%", "85,69%", "157"),
    "CL10": ("18,02%", "107,60%", "(30)"),
    "CL11": ("15,61%", "88,60%", "90"),
    "CL12": ("12,25%", "84,29%", "78"),
    "CL13": ("16,52%", "98,46%", "10"),
    "CL14": ("8,11%", "81,62%", "94"),
    "CL": ("13,92%", "88,86%", "1.323"),
}
# Seed 001: village, population, planned participants, rate.
NGOC_PHUNG = [
    ("NP", 8060, 7703, "95,57%"),
    ("NP01", 489, 468, "95,71%"),
    ("NP02", 903, 846, "93,69%"),
    ("NP03", 1316, 1298, "98,63%"),
    ("NP04", 1478, 1423, "96,28%"),
    ("NP05", 1350, 1302, "96,44%"),
    # The seed prints 95,01% for Hưng Long, but 1.556 / 1.604 = 97,01%: its planned number
    # and population both add up to the commune's totals (7.703, 8.060), so the rate is a typo.
    ("NP06", 1604, 1556, "97,01%"),
    ("NP07", 920, 810, "88,04%"),
]


@pytest.fixture
async def world(tmp_path: Path):
    storage = open_storage(EngineSettings(engine_url("sqlite", tmp_path / "coverage.sqlite3"), tmp_path / "coverage.sqlite3"))
    await storage.connect()
    clock = ManualClock(DEFAULT_NOW)
    units = storage.units
    members = storage.members
    figures = storage.figures
    for name in ("units_cang_long.csv", "units_ngoc_phung.csv"):
        report = await import_units(name, units, clock, data=sample_bytes(name))
        assert report.errors == []
    service = OrganisationService(
        clock=clock,
        access=AccessService({}, members, units),
        units=units,
        members=members,
        teams=storage.teams,
        invites=storage.invites,
        figures=figures,
    )
    try:
        yield storage, service, members
    finally:
        await storage.close()


async def test_seed_003_bhyt_table(world) -> None:
    _, service, _ = world
    rows = {r.code: r for r in await service.coverage_rows("CL")}
    for code, (coverage, of_target, remaining) in BHYT.items():
        f = rows[code][Measure.BHYT]
        assert (format_coverage_pct(f.coverage), format_coverage_pct(f.of_target), format_remaining(f.remaining)) == (
            coverage, of_target, remaining,
        ), code
    total = rows["CL"][Measure.BHYT]
    assert (total.participants, total.denominator, total.target) == (132_600, 148_806, Decimal("95"))


async def test_seed_003_bhxh_table(world) -> None:
    _, service, _ = world
    rows = {r.code: r for r in await service.coverage_rows("CL")}
    for code, expected in BHXH.items():
        total, voluntary, compulsory = rows[code][Measure.BHXH], rows[code][Measure.BHXH_TN], rows[code][Measure.BHXH_BB]
        got = (
            format_coverage_pct(total.coverage),
            format_coverage_pct(voluntary.coverage),
            format_coverage_pct(total.of_target),
            format_coverage_pct(voluntary.of_target),
            format_remaining(compulsory.remaining),
            format_remaining(voluntary.remaining),
        )
        assert got == expected, code
    cl = rows["CL"]
    assert cl[Measure.BHXH].participants == 14_338 and cl[Measure.BHXH].denominator == 75_890
    assert cl[Measure.BHXH_BB].participants == 10_841


async def test_seed_003_bhtn_table(world) -> None:
    _, service, _ = world
    rows = {r.code: r for r in await service.coverage_rows("CL")}
    for code, (coverage, of_target, remaining) in BHTN.items():
        f = rows[code][Measure.BHTN]
        got = (format_coverage_pct(f.coverage), format_coverage_pct(f.of_target), format_remaining(f.remaining))
        assert got == (coverage, of_target, remaining), code


async def test_seed_003_summary_table_of_remaining(world) -> None:
    """Section IV's table: compulsory, voluntary, BHTN, BHYT still to do per commune."""
    _, service, _ = world
    rows = {r.code: r for r in await service.coverage_rows("CL")}
    measures = (Measure.BHXH_TN, Measure.BHTN, Measure.BHYT)
    assert [rows["CL01"][m].remaining for m in measures] == [62, 175, 263]
    assert [rows["CL10"][m].remaining for m in measures] == [5, -30, 211]
    # The totals row: BHXH TN 1.186, BHTN 1.323, BHYT 8.766 (sums of the communes' exact gaps).
    assert [rows["CL"][m].remaining for m in measures] == [1186, 1323, 8766]


def test_bình_phú_compulsory_figure_of_the_seed_is_inconsistent() -> None:
    """Why the test expects 339 where the seed prints 347 (documented, not papered over)."""
    total_gap = Decimal("23.29") * 7524 / 100 - (1035 + 320)
    voluntary_gap = Decimal("5.02") * 7524 / 100 - 320
    assert round(total_gap) - round(voluntary_gap) == 339


async def test_seed_001_village_rates(world) -> None:
    _, service, _ = world
    plan = {p.code: p for p in planned_rates(await service.coverage_rows("NP"))}
    for code, population, planned, rate in NGOC_PHUNG:
        row = plan[code]
        assert (row.population, row.planned, format_coverage_pct(row.rate)) == (population, planned, rate), code
    # Without baseline participants there is no coverage yet, only the plan.
    rows = {r.code: r for r in await service.coverage_rows("NP")}
    assert rows["NP01"].bhyt.coverage is None and rows["NP01"].bhyt.remaining is None
    assert rounded_pct(rows["NP"].bhyt.target) == Decimal("95.57")


async def test_reimport_is_idempotent_and_changes_nothing(world) -> None:
    storage, service, _ = world
    db = storage.db  # the SQLite engine's handle: rows checked with SQL
    before = await service.coverage_rows()
    units = storage.units
    report = await import_units("units_cang_long.csv", units, service.clock, data=sample_bytes("units_cang_long.csv"))
    assert report.counts["units_created"] == 0 and report.counts["units_updated"] == 15
    assert await service.coverage_rows() == before
    assert await db.fetchval("SELECT COUNT(*) FROM unit_baselines") == 56
    assert await db.fetchval("SELECT COUNT(*) FROM unit_targets") == 60 + 8


async def _log(repo: EnrolmentStore, agent: int, unit: str, code: str, scheme: str, at: datetime):
    new = NewEnrolment(
        agent_id=agent, unit_code=unit, team_id=None, campaign_code=None, scheme=scheme,
        participant_name="Người Tham Gia", participant_code=code, code_kind="bhxh", months=12,
        support_group=None, income=None, household_position=1, amount_expected=1, amount_paid=1,
        amount_reason=None, is_relative=False, created_at=at,
    )
    return await repo.add_unless_duplicate(new, [scheme], lambda existing: (at.date(), at.date() + timedelta(days=365)))


async def test_new_enrolments_since_the_baseline_move_coverage_and_voids_move_it_back(world) -> None:
    storage, service, members = world
    repo = storage.enrolments
    agent = await members.add(full_name="Phạm Thị Hoa", role=Role.AGENT, unit_code="CL06", actor=CLI_ACTOR, at=DEFAULT_NOW, user_id=1, channel="telegram")
    for i in range(10):
        await _log(repo, agent, "CL06", f"84230000{i:02d}", "bhyt_household", DEFAULT_NOW)
    voluntary = await _log(repo, agent, "CL06", "8423000099", "bhxh_voluntary", DEFAULT_NOW)
    # Logged on the baseline date itself: already counted in the baseline.
    await _log(repo, agent, "CL06", "8423000100", "bhyt_household", datetime(2023, 6, 30, 10, tzinfo=DEFAULT_NOW.tzinfo))
    rows = {r.code: r for r in await service.coverage_rows("CL")}
    tan_an = rows["CL06"]
    assert tan_an.bhyt.participants == 9_401 + 10 and tan_an.bhyt.new == 10
    assert tan_an.bhyt.remaining == 476 - 10
    assert tan_an[Measure.BHXH_TN].participants == 226 and tan_an[Measure.BHXH].participants == 1_019
    assert rows["CL"].bhyt.participants == 132_610 and rows["CL"].bhyt.remaining == 8_756
    # Voiding the voluntary entry takes it out of the tallies again.
    await repo.change_status(voluntary.id, "voided", StatusActor(agent), "nhầm", DEFAULT_NOW)
    rows = {r.code: r for r in await service.coverage_rows("CL")}
    assert rows["CL06"][Measure.BHXH_TN].participants == 225


def test_pure_rollup_of_a_deeper_tree_without_parent_figures() -> None:
    """Province -> district -> communes: denominators and target counts sum up the tree."""
    base = {"bhyt": BaselineFigure(date(2025, 1, 1), 90)}
    target = {"bhyt": TargetSpec(pct=Decimal("95"))}
    units = [
        UnitInput("P", "Tỉnh"),
        UnitInput("D", "Huyện", "P"),
        UnitInput("A", "Xã A", "D", population=100, baselines=base, targets=target, new={"bhyt": 3}),
        UnitInput("B", "Xã B", "D", population=200, baselines={"bhyt": BaselineFigure(date(2025, 1, 1), 150)}, targets=target),
        UnitInput("X", "Thôn lạc", "NOWHERE", population=5),
    ]
    rows = {r.code: r for r in compute_coverage(units)}
    assert rows["P"].depth == 0 and rows["A"].depth == 2
    assert rows["P"].bhyt.participants == 243 and rows["P"].bhyt.denominator == 300
    assert rows["P"].bhyt.remaining == 285 - 243  # 95 + 190 target people
    assert rows["P"].bhyt.target == Decimal(95)
    assert rows["X"].depth == 0 and rows["X"].bhyt.coverage is None  # a root of its own
    assert compute_coverage(units, root="D")[0].code == "D"
    assert compute_coverage(units, root="missing") == []


def test_formatters() -> None:
    assert format_remaining(-75) == "(75)" and format_remaining(2362) == "2.362" and format_remaining(None) == "—"
    assert format_coverage_pct(Decimal("93.0843")) == "93,08%" and format_coverage_pct(None) == "—"
    assert rounded_pct(Decimal("74.685")) == Decimal("74.69")  # half up
