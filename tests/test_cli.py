"""The command line as an operator meets it: clear one-line errors, the rate table by date."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from telegram import Bot

from bot.cli import configure_logging
from bot.domain.rates import RateBook
from devtools.telegram_emulator import BotApiEmulator
from tests.conftest import TOKEN

GOOD_TOKEN = "123456789:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run `python -m bot` with a clean environment (no developer .env, no stray settings)."""
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "SYSTEMROOT")}
    base["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    base.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        env=base,
        cwd=cwd,
        timeout=60,
    )


def test_rates_prints_the_table_in_force_on_a_date(tmp_path: Path) -> None:
    before = run_cli("rates", "--date", "30/06/2026", cwd=tmp_path)
    after = run_cli("rates", "--date", "01/07/2026", cwd=tmp_path)
    assert before.returncode == 0 and after.returncode == 0
    assert "2.340.000 đ" in before.stdout and "NĐ 73/2024/NĐ-CP" in before.stdout
    assert "2.530.000 đ" in after.stdout and "NĐ 161/2026/NĐ-CP" in after.stdout
    assert "1.366.200 đ" in after.stdout


def test_rates_on_2027_01_01_show_the_new_poverty_line_and_its_source(tmp_path: Path) -> None:
    before = run_cli("rates", "--date", "31/12/2026", cwd=tmp_path)
    after = run_cli("rates", "--date", "01/01/2027", cwd=tmp_path)
    assert before.returncode == 0 and after.returncode == 0, before.stderr + after.stderr
    assert "từ 1.500.000 đ" in before.stdout and "330.000 đ" in before.stdout
    assert "từ 01/01/2027 chuẩn nghèo nông thôn là 2.200.000 đ" in before.stdout
    out = after.stdout
    assert "Mức đóng áp dụng ngày / rates in force on 01/01/2027" in out
    assert "từ 2.200.000 đ (chuẩn nghèo nông thôn, NĐ 351/2025/NĐ-CP" in out
    assert "= 484.000 đ" in out
    for key, amount in (
        ("ngheo", "242.000 đ"),
        ("xa_dao_dac_khu", "242.000 đ"),
        ("can_ngheo", "193.600 đ"),
        ("dtts", "145.200 đ"),
        ("khac", "96.800 đ"),
    ):
        (line,) = [row for row in out.splitlines() if row.strip().startswith(key + " ")][-1:]
        assert amount in line, line
    assert "đến 50.600.000 đ" in out
    assert "1.366.200 đ" in out and "NĐ 188/2025/NĐ-CP Điều 6 khoản 5" in out
    assert "⚠ Chỉ áp dụng trong 36 tháng" in out


@pytest.mark.parametrize(
    ("env", "named"),
    [
        # No setting at all: one line per channel, tested in tests/test_run.py.
        ({"TELEGRAM_BOT_TOKEN": "not-a-token"}, "TELEGRAM_BOT_TOKEN is invalid"),
        ({"TELEGRAM_BOT_TOKEN": GOOD_TOKEN, "TIMEZONE": "Mars/Olympus"}, "TIMEZONE is invalid"),
        ({"TELEGRAM_BOT_TOKEN": GOOD_TOKEN, "ADMIN_TELEGRAM_IDS": "12,abc"}, "ADMIN_TELEGRAM_IDS is invalid"),
        ({"TELEGRAM_BOT_TOKEN": GOOD_TOKEN, "TELEGRAM_API_BASE_URL": "ftp:/x"}, "TELEGRAM_API_BASE_URL is invalid"),
        ({"TELEGRAM_BOT_TOKEN": GOOD_TOKEN, "REMINDER_INTERVAL_DAYS": "0"}, "REMINDER_INTERVAL_DAYS is invalid"),
        ({"TELEGRAM_BOT_TOKEN": GOOD_TOKEN, "LOG_LEVEL": "LOUD"}, "LOG_LEVEL is invalid"),
        # Only ASCII digits are ids: Arabic-Indic digits are not read as 123, nor does a
        # superscript two crash int().
        ({"TELEGRAM_BOT_TOKEN": GOOD_TOKEN, "ADMIN_TELEGRAM_IDS": "١٢٣"}, "'١٢٣' is not a numeric Telegram user id"),
        ({"TELEGRAM_BOT_TOKEN": GOOD_TOKEN, "ADMIN_TELEGRAM_IDS": "12,²"}, "'²' is not a numeric Telegram user id"),
        ({"TELEGRAM_BOT_TOKEN": GOOD_TOKEN, "ADMIN_ZALO_IDS": "12,abc"}, "ADMIN_ZALO_IDS is invalid"),
        ({"TELEGRAM_BOT_TOKEN": GOOD_TOKEN, "ADMIN_ZALO_IDS": "١٢٣"}, "'١٢٣' is not a numeric Zalo user id"),
    ],
)
def test_a_bad_setting_stops_start_up_with_one_line_naming_it(
    tmp_path: Path, env: dict[str, str], named: str
) -> None:
    result = run_cli("run", env=env, cwd=tmp_path)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert named in lines[0]
    assert "Traceback" not in result.stderr


def _write_rates_with(tmp_path: Path, old: str, new: str) -> Path:
    text = (Path(__file__).resolve().parents[1] / "bot" / "data" / "rates.toml").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "rates.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "named"),
    [
        ("effective_from = 2024-07-01\neffective_to = 2026-06-30\namount = 2_340_000",
         "effective_from = 2024-06-01\neffective_to = 2026-06-30\namount = 2_340_000", "base_salary row 3"),
        ("amount = 2_530_000", "amount = -2_530_000", "base_salary row 4"),
        ("amount = 2_530_000", "amount = 2_530_000\nbonus = 1", "base_salary row 4"),
    ],
)
def test_a_broken_rate_file_stops_start_up_naming_the_row(
    tmp_path: Path, old: str, new: str, named: str
) -> None:
    rates = _write_rates_with(tmp_path, old, new)
    result = run_cli("run", env={"TELEGRAM_BOT_TOKEN": GOOD_TOKEN, "RATES_PATH": str(rates)}, cwd=tmp_path)
    assert result.returncode != 0
    assert named in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_an_operator_changes_a_figure_by_editing_the_file(tmp_path: Path) -> None:
    """A new base salary from a date, added as a row: no code changes, answers by date."""
    text = (Path(__file__).resolve().parents[1] / "bot" / "data" / "rates.toml").read_text(encoding="utf-8")
    old = 'effective_from = 2026-07-01\namount = 2_530_000\nsource = "NĐ 161/2026/NĐ-CP"'
    new = (
        'effective_from = 2026-07-01\neffective_to = 2027-06-30\namount = 2_530_000\nsource = "NĐ 161/2026/NĐ-CP"\n\n'
        '[[base_salary]]\neffective_from = 2027-07-01\namount = 2_800_000\nsource = "NĐ giả định"'
    )
    assert old in text
    path = tmp_path / "rates.toml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    book = RateBook.load(path)
    assert book.at(date(2027, 6, 30)).base_salary.amount == 2_530_000
    assert book.at(date(2027, 7, 1)).base_salary.amount == 2_800_000
    result = run_cli("rates", "--date", "01/07/2027", env={"RATES_PATH": str(path)}, cwd=tmp_path)
    assert result.returncode == 0 and "2.800.000 đ" in result.stdout


async def test_debug_logging_shows_neither_the_token_nor_message_contents(
    emulator: BotApiEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    configure_logging("DEBUG")
    caplog.set_level(logging.DEBUG)
    emulator.user(4242, first_name="An")
    async with Bot(TOKEN, base_url=emulator.base_url) as bot:
        await bot.send_message(4242, "Số của bạn: 0912345678, mã 8423001234")
    assert TOKEN not in caplog.text
    assert "0912345678" not in caplog.text and "8423001234" not in caplog.text


async def test_run_with_a_token_telegram_refuses_says_so_in_one_line_without_the_token(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    """PTB's InvalidToken quotes the token; `run` says which setting to check instead: one
    line, a non-zero exit, no traceback, the token's secret nowhere in the output."""
    secret = "SECRETSECRETSECRETSECRET_x-9"
    env = {
        "TELEGRAM_BOT_TOKEN": f"222222:{secret}",
        "TELEGRAM_API_BASE_URL": emulator.api_base_url,
        "DATABASE_PATH": str(tmp_path / "bot.sqlite3"),
    }
    result = await asyncio.to_thread(run_cli, "run", env=env, cwd=tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert secret not in output and "SECRET" not in output
    assert "Traceback" not in output
    assert result.stderr.strip().splitlines()[-1] == (
        "bhxh-bot: error: the bot token was refused by Telegram (TELEGRAM_BOT_TOKEN); check it with @BotFather"
    )
    assert emulator.requests["getMe"] >= 1  # it really asked Telegram
