"""`bhxh-bot report --unit CODE [--from D --to D] --out FILE.xlsx [--chart FILE.png]`: the
officials' report (seed 003 coverage tables, competition, the month's Phụ lục 02) as a file,
for an operator on the server.

It shares `report` with `report monthly` (bot/cli/reports.py): `report` takes these options
itself and its sub-commands stay available. Mistakes an operator can fix (an unknown unit, bad
dates, no database, an unwritable file) end with one line on stderr and exit code 1.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import date
from pathlib import Path

from bot.settings import Settings

MAX_RANGE_DAYS = 366


def _day(text: str) -> date:
    from bot.cli import parse_day

    return parse_day(text)


def _report_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """The `report` parser, with its sub-commands made optional (`report --unit ...` works)."""
    parser = sub.choices.get("report")
    if parser is None:
        parser = sub.add_parser("report", help="reports as files (summary, monthly form)")
        parser.add_subparsers(dest="report_command", required=False)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            action.required = False
    return parser


def register_cli(sub: argparse._SubParsersAction) -> None:
    """Add the summary report to `report` (bot.cli.EXTRA_COMMANDS)."""
    parser = _report_parser(sub)
    parser.description = (
        "report --unit CODE [--from DD/MM/YYYY --to DD/MM/YYYY] --out FILE.xlsx: coverage "
        "(seed 003), competition and Phụ lục 02 of a unit's area; or report monthly ..."
    )
    parser.add_argument("--unit", help="unit code: that unit and everything below it")
    parser.add_argument("--from", dest="date_from", type=_day, help="first day, DD/MM/YYYY")
    parser.add_argument("--to", dest="date_to", type=_day, help="last day, DD/MM/YYYY")
    parser.add_argument("--out", type=Path, help="FILE.xlsx to write")
    parser.add_argument("--chart", type=Path, help="also write the progress chart to FILE.png")
    parser.add_argument("--mask-codes", action="store_true", help="mask participants' codes")
    parser.set_defaults(func=cmd_report_summary)


def _fail(message: str) -> int:
    print(f"bhxh-bot: error: {message}", file=sys.stderr)
    return 1


def cmd_report_summary(args: argparse.Namespace, settings: Settings) -> int:
    if not args.unit or args.out is None:
        return _fail("report needs --unit CODE and --out FILE.xlsx (or: report monthly --month MM/YYYY ...)")
    if args.out.suffix.lower() != ".xlsx":
        return _fail(f"--out must end in .xlsx: {args.out}")
    if args.chart is not None and args.chart.suffix.lower() != ".png":
        return _fail(f"--chart must end in .png: {args.chart}")
    if (args.date_from is None) != (args.date_to is None):
        return _fail("give both --from and --to, or neither (today's summary)")
    if args.date_from and args.date_to:
        if args.date_to < args.date_from:
            return _fail("--to is before --from")
        if (args.date_to - args.date_from).days >= MAX_RANGE_DAYS:
            return _fail("the period is longer than a year")
    from storage.engines import missing_database

    if (missing := missing_database(settings)) is not None:
        return _fail(missing)
    return asyncio.run(_report(settings, args))


async def _report(settings: Settings, args: argparse.Namespace) -> int:
    from bot.bootstrap import open_services
    from bot.domain.summary import SummaryKind

    async with open_services(settings) as services:
        unit = await services.units.get(args.unit) or await services.units.get(args.unit.upper())
        if unit is None:
            return _fail(f"unit {args.unit!r} not found")
        today = services.today()
        if args.date_from is None:
            package = await services.summaries.build(
                unit.code, SummaryKind.DAILY, today, mask_codes=args.mask_codes
            )
        else:
            package = await services.summaries.build(
                unit.code, SummaryKind.RANGE, min(args.date_to, today), args.date_from, args.date_to,
                mask_codes=args.mask_codes,
            )
    try:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_bytes(package.workbook)
        if args.chart is not None and package.chart is None:
            return _fail("the chart could not be drawn (the workbook was written); see the log")
        if args.chart is not None and package.chart is not None:
            args.chart.parent.mkdir(parents=True, exist_ok=True)
            args.chart.write_bytes(package.chart)
    except OSError as exc:
        return _fail(f"cannot write {exc.filename or args.out}: {exc.strerror or exc}")
    data = package.data
    print(
        f"{args.out}: {data.unit_name}, {data.period_start:%d/%m/%Y}–{data.period_end:%d/%m/%Y}, "
        f"{data.period_counts.total} new participants"
        + (f"; chart {args.chart}" if args.chart else "")
    )
    return 0
