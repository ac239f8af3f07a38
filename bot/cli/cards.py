"""`bhxh-bot import cards FILE`: import a lapsed-card list (CSV or XLSX) from the command line.

Prints the same Vietnamese report an official gets in the chat. Exit code 0 when every row
was taken, 1 when some rows were refused (they are listed), 2 when the file cannot be read
(one line on stderr, nothing written).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from bot.chat.rich import Rich, to_plain
from bot.settings import Settings


def add_cli_commands(sub: argparse._SubParsersAction) -> None:
    """Register `import cards FILE` under the shared `import` command."""
    from bot.imports.organisation import import_subparsers

    kinds = import_subparsers(sub)
    cards = kinds.add_parser("cards", help="danh sách thẻ BHYT hết hạn (CSV hoặc XLSX) của BHXH")
    cards.add_argument("file", type=Path)
    cards.add_argument(
        "--legal-basis",
        metavar="VĂN_BẢN",
        help="cơ sở pháp lý để liên hệ người trong danh sách (ví dụ số công văn); không có thì"
        " không bao giờ gửi ZNS cho danh sách này",
    )
    cards.set_defaults(func=cmd_import_cards)

    reminders = sub.add_parser("reminders", help="nhắc hạn thẻ: số liệu theo kênh, tin ZNS chưa rõ kết quả")
    what = reminders.add_subparsers(dest="what", required=True, metavar="WHAT")
    unknown = what.add_parser("unknown", help="tin ZNS chưa rõ đã đến hay chưa (số điện thoại che bớt)")
    unknown.set_defaults(func=cmd_unknown_zns)
    counts = what.add_parser("counts", help="số tin nhắc theo kênh, đã giao, bị từ chối, chưa rõ, chi phí ZNS")
    counts.add_argument("--days", type=int, default=30, help="số ngày gần nhất (mặc định 30)")
    counts.set_defaults(func=cmd_reminder_counts)


def _plain(text: Rich) -> str:
    """The chat report without markup, for a terminal."""
    return to_plain(text)


def _basis(args: argparse.Namespace) -> str | None:
    """The --legal-basis text, trimmed; None when absent or blank."""
    text = (getattr(args, "legal_basis", None) or "").strip()
    return text[:300] or None


def cmd_import_cards(args: argparse.Namespace, settings: Settings) -> int:
    from bot.bootstrap import open_services
    from bot.chat.texts.cards import file_error_text, import_report_text
    from bot.imports.cards import MAX_FILE_BYTES, CardFileError, FileProblem, Severity

    path: Path = args.file
    try:
        if path.stat().st_size > MAX_FILE_BYTES:  # refuse before reading a huge file into memory
            print(f"bhxh-bot: lỗi: {path.name}: {_plain(file_error_text(FileProblem.TOO_LARGE))}", file=sys.stderr)
            return 2
        data = path.read_bytes()
    except OSError as exc:
        print(f"bhxh-bot: lỗi: không đọc được {path}: {exc.strerror or exc}", file=sys.stderr)
        return 2

    async def run() -> int:
        async with open_services(settings) as services:
            service = services.cards
            try:
                result = await service.import_list(
                    data, path.name, None, source=f"cli:{path.name}", legal_basis=_basis(args)
                )
            except CardFileError as exc:
                print(f"bhxh-bot: lỗi: {path.name}: {_plain(file_error_text(exc.problem, exc.missing, exc.limit))}", file=sys.stderr)
                return 2
            print(_plain(import_report_text(path.name, result)))
            return 1 if any(p.severity is Severity.REJECTED for p in result.parsed.problems) else 0

    return asyncio.run(run())


def cmd_unknown_zns(args: argparse.Namespace, settings: Settings) -> int:
    """List the ZNS rows whose outcome is unknown (never resent automatically), masked."""
    from bot.bootstrap import open_services
    from bot.chat.texts.cards import zns_unknown_text

    async def run() -> int:
        async with open_services(settings) as services:
            rows = await services.reminders.repo.unknown_zns()
            print(_plain(zns_unknown_text(rows)))
            return 0

    return asyncio.run(run())


def cmd_reminder_counts(args: argparse.Namespace, settings: Settings) -> int:
    """Reminder figures of the last ``--days`` days for every unit on the lists."""
    from datetime import timedelta

    from bot.bootstrap import open_services
    from bot.chat.texts.cards import reminder_counts_text

    async def run() -> int:
        async with open_services(settings) as services:
            today = services.clock.now().date()
            units = [row[0] for row in await services.reminders.repo.units_with_reminders()]
            counts = await services.reminders.reminder_counts(units, today - timedelta(days=max(1, args.days) - 1), today)
            print(_plain(reminder_counts_text(counts)))
            return 0

    return asyncio.run(run())
