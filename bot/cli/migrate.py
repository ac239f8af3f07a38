"""`bhxh-bot migrate-data --to postgresql://…`: move a SQLite deployment onto PostgreSQL.

Reads the SQLite database the settings name (DATABASE_PATH, or a `sqlite:///` DATABASE_URL),
brings its schema up to date as the bot would at start-up, migrates the PostgreSQL target, and
copies every table (storage/postgresql/copy.py: one transaction and one COPY per table, an
empty target only). Prints the rows of every table on both sides and exits 0 only when they
and the tallies agree; 1 when they do not; 2 when it cannot start (one line on stderr).
Stop the bot first: rows written during the copy would be missed.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from bot.settings import Settings

EXIT_DIFFERENT = 1
EXIT_CANNOT = 2


def register_cli(sub: argparse._SubParsersAction) -> None:
    """Register `migrate-data --to URL [--resume]`."""
    command = sub.add_parser("migrate-data", help="copy the SQLite database into an empty PostgreSQL database")
    command.add_argument("--to", required=True, metavar="postgresql://…", help="the target database")
    command.add_argument(
        "--resume", action="store_true", help="continue a copy that stopped (tables already copied are kept)"
    )
    command.set_defaults(func=cmd_migrate_data)


def cmd_migrate_data(args: argparse.Namespace, settings: Settings) -> int:
    from storage.engines import engine_of, missing_database

    engine, source_place = engine_of(settings.database_url)
    target_engine, target_url = engine_of(args.to)
    if engine != "sqlite":
        print("bhxh-bot: error: migrate-data reads a SQLite database (DATABASE_URL names another engine)", file=sys.stderr)
        return EXIT_CANNOT
    if target_engine != "postgresql" or target_url is None:
        print("bhxh-bot: error: --to must be a postgresql:// URL", file=sys.stderr)
        return EXIT_CANNOT
    problem = missing_database(settings)
    if problem is not None:
        print(f"bhxh-bot: error: {problem}", file=sys.stderr)
        return EXIT_CANNOT
    source = Path(source_place) if source_place else settings.database_path
    return asyncio.run(_migrate(source, target_url, args.resume))


async def _migrate(source: Path, target_url: str, resume: bool) -> int:
    from storage.postgresql.copy import CopyError, copy_from_sqlite
    from storage.postgresql.engine import PostgresStorage
    from storage.sqlite.engine import SQLiteStorage

    lite = SQLiteStorage(source)
    await lite.connect()  # the schema the bot would have after start-up
    await lite.close()
    target = PostgresStorage(target_url)
    try:
        await target.connect()
    except (OSError, ValueError) as exc:
        print(f"bhxh-bot: error: cannot open the PostgreSQL database ({type(exc).__name__}: {exc})", file=sys.stderr)
        return EXIT_CANNOT
    try:
        report = await copy_from_sqlite(source, target.db, resume=resume, progress=lambda line: print(f"  {line}"))
    except CopyError as exc:
        print(f"bhxh-bot: error: {exc}", file=sys.stderr)
        return EXIT_CANNOT
    finally:
        await target.close()
    width = max(len(table) for table, _, _ in report.counts)
    print(f"{'table'.ljust(width)}  {'sqlite':>12}  {'postgresql':>12}")
    for table, lite_rows, pg_rows in report.counts:
        mark = "" if lite_rows == pg_rows else "  DIFFERENT"
        print(f"{table.ljust(width)}  {lite_rows:>12}  {pg_rows:>12}{mark}")
    for name in report.tally_mismatches:
        print(f"tally differs: {name}")
    if report.skipped:
        print(f"kept from the earlier run: {', '.join(report.skipped)}")
    if not report.equal:
        print("bhxh-bot: error: the copy is not equal to the source (see above)", file=sys.stderr)
        return EXIT_DIFFERENT
    print("counts and tallies agree")
    return 0
