"""Command line: `bhxh-bot run | demo | rates | import | report | migrate-data`.

Start-up problems an operator can fix (a missing setting, a broken rate file) end with one line
on stderr and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from datetime import date, datetime

from bot import logsafety
from bot.domain.campaigns import CampaignsError
from bot.domain.rates import RatesError
from bot.settings import Settings, SettingsError, load_settings
from storage.engines import EngineError

EXIT_CONFIG = 2
EXIT_TOKEN_REFUSED = 3

TOKEN_REFUSED = (
    "the bot token was refused by Telegram (TELEGRAM_BOT_TOKEN); check it with @BotFather"
)

Command = Callable[[argparse.Namespace, Settings], int]


def parse_day(text: str) -> date:
    """DD/MM/YYYY as officials write dates (also accepts YYYY-MM-DD)."""
    for fmt in ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y"):
        try:
            return datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    raise argparse.ArgumentTypeError(f"not a date (DD/MM/YYYY): {text!r}")


# Libraries whose debug logs carry the bot token (request URLs) or message contents (phones in
# shared contacts, lists): never below INFO, whatever LOG_LEVEL says.
_LEAKY_LOGGERS = ("telegram", "httpx", "httpcore")
_NOISY_LOGGERS = ("apscheduler", "aiohttp.access")


def configure_logging(level: str, log_format: str = "text") -> None:
    """Logs without personal data or the token; LOG_LEVEL governs the bot's own code.
    `log_format` "text": one readable line per record; "json": one JSON object per line
    (bot/logformat.py), for log shipping. The privacy filter applies to both."""
    handler = logging.StreamHandler()
    if log_format == "json":
        from bot.logformat import JsonFormatter

        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=getattr(logging, level.upper(), logging.INFO), handlers=[handler])
    for name in _LEAKY_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.INFO, logging.getLogger().level))
    for name in ("httpx", "httpcore", *_NOISY_LOGGERS):
        logging.getLogger(name).setLevel(logging.WARNING)
    # The database driver logs statements with their parameters at DEBUG; every library is
    # held at its floor, and the root handlers mask whatever looks like a phone or a code.
    logsafety.install()
    logging.getLogger(__name__).debug("logging at %s; personal data masked in every record", level.upper())


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    """Run the bot for real: every channel whose settings are present, in one process, on one
    set of services (bot/cli/serve.py), until SIGINT/SIGTERM.

    With no channel configured it names, one line per channel, the settings each needs. A token
    Telegram refuses (401, at start-up or later) ends the run with one line on stderr naming the
    setting, never a traceback: PTB's InvalidToken quotes the token.
    """
    import asyncio

    from bot.cli.serve import configured_channels, no_channel_lines, serve

    if not configured_channels(settings):
        for line in no_channel_lines(settings):
            print(f"bhxh-bot: error: {line}", file=sys.stderr)
        return EXIT_CONFIG
    configure_logging(settings.log_level, settings.log_format)
    if not asyncio.run(serve(settings)):
        print(f"bhxh-bot: error: {TOKEN_REFUSED}", file=sys.stderr)
        return EXIT_TOKEN_REFUSED
    return 0


DEMO_MOVED = (
    "the demo is a development tool: run `./dev demo` from a checkout of the repository\n"
    "bản demo là công cụ phát triển: hãy chạy `./dev demo` trong thư mục mã nguồn của dự án"
)


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    """Point to `./dev demo`: the demo and its emulator are not part of the installed bot.

    They live in the development package (devtools/), which the product never imports, so
    `pip install .` needs no emulator library (aiohttp).
    """
    print(f"bhxh-bot: {DEMO_MOVED}", file=sys.stderr)
    return EXIT_CONFIG


def cmd_rates(args: argparse.Namespace, settings: Settings) -> int:
    """Print the rate tables in force on a date (default: today in the configured zone)."""
    from bot.domain.clock import SystemClock
    from bot.domain.rates import RateBook, describe_rates

    book = RateBook.load(settings.rates_path)
    on = args.date or SystemClock(settings.tz).now().date()
    print(describe_rates(book.at(on)))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bhxh-bot", description="BHXH/BHYT enrolment campaign chatbot"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the bot on every configured channel (Telegram, Zalo OA)")
    run.set_defaults(func=cmd_run)

    demo = sub.add_parser("demo", help="moved: run ./dev demo from a checkout")
    for option in ("--script", "--date"):  # the demo's own options, so the pointer is what shows
        demo.add_argument(option, help=argparse.SUPPRESS)
    demo.set_defaults(func=cmd_demo)

    rates = sub.add_parser("rates", help="print the rate tables in force on a date")
    rates.add_argument("--date", type=parse_day, help="DD/MM/YYYY (default: today)")
    rates.set_defaults(func=cmd_rates)

    for register in EXTRA_COMMANDS:
        register(sub)
    return parser


# Feature modules add their sub-commands here (import, report, ...).
def _register_report_monthly(sub: argparse._SubParsersAction) -> None:
    from bot.cli.reports import register_cli  # light: the report itself imports lazily

    register_cli(sub)


EXTRA_COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [_register_report_monthly]


def _organisation_commands(sub: argparse._SubParsersAction) -> None:
    """`import units|targets|teams FILE` (bot/orgimport.py, imported only when parsing)."""
    from bot.imports.organisation import add_cli_commands

    add_cli_commands(sub)


EXTRA_COMMANDS.append(_organisation_commands)


def _card_commands(sub: argparse._SubParsersAction) -> None:
    """`import cards FILE` (bot/cards_cli.py, imported only when parsing)."""
    from bot.cli.cards import add_cli_commands

    add_cli_commands(sub)


EXTRA_COMMANDS.append(_card_commands)


def _summary_report_command(sub: argparse._SubParsersAction) -> None:
    """`report --unit CODE [--from D --to D] --out FILE.xlsx` (bot/summary_cli.py), next to
    `report monthly`; must come after the monthly registrar (it makes sub-commands optional)."""
    from bot.cli.summaries import register_cli

    register_cli(sub)


EXTRA_COMMANDS.append(_summary_report_command)


def _migrate_data_command(sub: argparse._SubParsersAction) -> None:
    """`migrate-data --to postgresql://…` (bot/cli/migrate.py): SQLite -> PostgreSQL."""
    from bot.cli.migrate import register_cli

    register_cli(sub)


EXTRA_COMMANDS.append(_migrate_data_command)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
        return int(args.func(args, settings))
    except (SettingsError, RatesError, CampaignsError, EngineError) as exc:
        print(f"bhxh-bot: error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if logsafety.is_token_refusal(exc):  # PTB's InvalidToken quotes the token
            print(f"bhxh-bot: error: {TOKEN_REFUSED}", file=sys.stderr)
            return EXIT_TOKEN_REFUSED
        raise


if __name__ == "__main__":
    sys.exit(main())
