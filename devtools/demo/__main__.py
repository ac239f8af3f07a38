"""`python -m devtools.demo` (what `./dev demo` runs): chat with the bot offline, on sample data.

The demo is a development tool: it needs the local Bot API emulator (aiohttp, the `demo`
extra) and the sample data of a checkout, so it lives here and not in the `bhxh-bot` command.
Start-up problems end with one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.cli import EXIT_CONFIG, configure_logging, parse_day
from bot.domain.campaigns import CampaignsError
from bot.domain.rates import RatesError
from bot.settings import SettingsError, load_settings


def build_parser() -> argparse.ArgumentParser:
    """The demo's options, as the README gives them."""
    parser = argparse.ArgumentParser(prog="./dev demo", description="chat with the bot offline, on sample data")
    parser.add_argument("--script", type=Path, help="read messages from FILE (#n presses button n)")
    parser.add_argument("--date", type=parse_day, help="pretend today is DD/MM/YYYY")
    parser.add_argument(
        "--channel", choices=("telegram", "zalo"), default="telegram",
        help="telegram: chat in the terminal (default); zalo: a walk-through on a Zalo OA",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo until the input ends; returns the exit code (0 when the conversation ran)."""
    from devtools.demo.session import run_demo

    args = build_parser().parse_args(argv)
    if args.channel == "zalo" and args.script is not None:
        print("demo: error: --script is for the Telegram demo; the Zalo demo runs its own steps", file=sys.stderr)
        return EXIT_CONFIG
    try:
        settings = load_settings()
        # Quiet by default (the transcript is what a newcomer reads); LOG_LEVEL, when set, applies.
        configure_logging(settings.log_level if "log_level" in settings.model_fields_set else "WARNING")
        if args.channel == "zalo":
            from devtools.demo.zalo import run_zalo_demo

            return asyncio.run(run_zalo_demo(on=args.date))
        return asyncio.run(run_demo(script=args.script, on=args.date))
    except (SettingsError, RatesError, CampaignsError) as exc:
        print(f"demo: error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
