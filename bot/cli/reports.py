"""`bhxh-bot report monthly --month MM/YYYY [--unit CODE] --out FILE.xlsx`: the Phụ lục 02 form
from the command line, for an operator on the server (full codes unless --mask-codes).

Mistakes an operator can fix (a bad month, an unknown unit, no database, an unwritable file)
end with one line on stderr and exit code 1, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from datetime import date
from pathlib import Path

from bot.settings import Settings

_MONTH_RE = re.compile(r"^\s*(\d{1,2})[/.-](\d{4})\s*$")


def parse_month(text: str) -> date:
    """MM/YYYY (also M/YYYY, MM-YYYY) -> the first day of that month."""
    m = _MONTH_RE.match(text)
    if m is None or not 1 <= int(m.group(1)) <= 12 or not 2000 <= int(m.group(2)) <= 2100:
        raise argparse.ArgumentTypeError(f"not a month (MM/YYYY): {text!r}")
    return date(int(m.group(2)), int(m.group(1)), 1)


def _report_subparsers(sub: argparse._SubParsersAction) -> argparse._SubParsersAction:
    """The sub-commands of `report`, creating `report` if no other module did yet."""
    parser = sub.choices.get("report")
    if parser is None:
        parser = sub.add_parser("report", help="reports as files (monthly form, ...)")
        return parser.add_subparsers(dest="report_command", required=True)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    return parser.add_subparsers(dest="report_command", required=True)


def register_cli(sub: argparse._SubParsersAction) -> None:
    """Add `report monthly` to the command line (bot.cli.EXTRA_COMMANDS)."""
    reports = _report_subparsers(sub)
    monthly = reports.add_parser("monthly", help="Phụ lục 02 (seed 002) of a month as XLSX")
    monthly.add_argument("--month", type=parse_month, required=True, help="MM/YYYY, e.g. 11/2026")
    monthly.add_argument("--unit", help="unit code: that unit and everything below it (default: all)")
    monthly.add_argument("--out", type=Path, required=True, help="FILE.xlsx to write")
    monthly.add_argument("--mask-codes", action="store_true", help="mask participants' codes")
    monthly.set_defaults(func=cmd_report_monthly)


def cmd_report_monthly(args: argparse.Namespace, settings: Settings) -> int:
    from storage.engines import missing_database

    if (missing := missing_database(settings)) is not None:
        print(f"bhxh-bot: error: {missing}", file=sys.stderr)
        return 1
    out: Path = args.out
    if out.suffix.lower() != ".xlsx":
        print(f"bhxh-bot: error: --out must end in .xlsx: {out}", file=sys.stderr)
        return 1
    return asyncio.run(_monthly(settings, args.month, args.unit, out, args.mask_codes))


async def _monthly(settings: Settings, month: date, unit: str | None, out: Path, mask: bool) -> int:
    from bot.bootstrap import open_services
    from bot.reports.monthly_xlsx import build_workbook

    async with open_services(settings) as services:
        report = await services.enrolments.monthly_report_for_unit(month, unit)
        if report is None:
            print(f"bhxh-bot: error: unit {unit!r} not found", file=sys.stderr)
            return 1
        content = build_workbook(
            report.rows, month, report.scope_label, services.today(), mask or report.mask_codes
        )
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(content)
    except OSError as exc:
        print(f"bhxh-bot: error: cannot write {out}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(f"{out}: {len(report.rows)} participants, {month.month:02d}/{month.year}, {report.scope_label}")
    return 0
