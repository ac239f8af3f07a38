"""No phone number, BHXH code or CCCD in the logs, at any level, from any library.

The whole demo runs at LOG_LEVEL=DEBUG as an operator would start it (`./dev demo`), with a
script that shares contacts, logs and withdraws entries, types phone numbers where ids are
expected, imports nothing by hand but seeds the sample lapsed-card list (phones, codes) and
runs a reminder round: the log must carry none of those numbers.
"""

from __future__ import annotations

import csv
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

from bot import logsafety
from bot.logsafety import MASK, PersonalDataFilter, describe_exception, mask_personal_data

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_CARDS = ROOT / "bot" / "data" / "samples" / "the_het_han_2026.csv"

# Typed in the script below: codes logged by the agent, phones typed where ids are expected.
TYPED = ["8423001234", "8423005678", "0912345678", "0791566859", "0912000001", "0912000099"]

SCRIPT = """\
/start
bhyt ho gia dinh 3 nguoi
#3
:sdt
/hethan
:sdt khac
/dunglai
/nhac
:nhac
:ghi
/ghi bhyt Nguyễn Văn An 8423001234 12 tháng
#1
/ghi bhyt Nguyễn Văn An 8423001234 12 tháng
#1
/ghi bhxh Trần Thị Bình 8423005678 2tr 12 tháng người thân
#1
/toi
/huy
#1
/danhsach
/huyghi 0912345678 goi nham
/huyghi ①② nham
/xoatv 0791566859
:ai huyen
/baocao
/danhsach
/moi
#1
#1
/thanhvien
/baophu
/huyghi 1 nhập sai 0791566859
/suatv 0912345678 agent
:tomtat huyen
:ai quantri
/donvi
"""


def sample_numbers() -> set[str]:
    """Every phone and BHXH code of the sample list, as written and as bare digits."""
    found: set[str] = set(TYPED)
    with SAMPLE_CARDS.open(encoding="utf-8-sig") as f:
        for row in csv.DictReader(f):
            for column in ("Mã số BHXH", "Số điện thoại"):
                value = (row.get(column) or "").strip()
                if value:
                    found.add(value)
                    found.add(re.sub(r"\D", "", value))
    return {n for n in found if len(re.sub(r"\D", "", n)) >= 9}


def test_a_debug_run_of_the_whole_demo_logs_no_phone_or_code(tmp_path: Path) -> None:
    script = tmp_path / "walk.txt"
    script.write_text(SCRIPT, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    env["PYTHONPATH"] = str(ROOT)
    env["LOG_LEVEL"] = "DEBUG"
    result = subprocess.run(
        [sys.executable, "-m", "devtools.demo", "--script", str(script), "--date", "23/11/2026"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    log = result.stderr
    # The run really logged at DEBUG, and the demo really did the things that touch the numbers.
    assert "DEBUG bot.cli: logging at DEBUG" in log
    assert "reminder round: queued" in log
    assert "Đã ghi" in result.stdout and "8423001234" in result.stdout  # the agent sees their own entry
    numbers = sample_numbers()
    assert len(numbers) > 300
    leaked = sorted(n for n in numbers if n in log)
    assert leaked == [], leaked[:5]
    assert "Traceback" not in log


def test_the_filter_masks_messages_arguments_and_exceptions() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "phone %s code %s", ("0912 345 678", "8423001234"), None)
    try:
        raise ValueError("typed +84912345678")
    except ValueError:
        record.exc_info = sys.exc_info()
    assert PersonalDataFilter().filter(record)
    text = logging.Formatter("%(message)s").format(record)
    for number in ("0912 345 678", "8423001234", "84912345678", "912345678"):
        assert number not in text
    assert text.count(MASK) == 4  # two arguments, the source line and the exception message
    assert mask_personal_data("1.366.200 đ, 12 tháng, 2026-11-23, member 42") == "1.366.200 đ, 12 tháng, 2026-11-23, member 42"


def test_anything_shaped_like_a_bot_token_is_masked_and_a_refused_token_has_no_traceback() -> None:
    secret = "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
    for token in (f"110201543:{secret}", f"22222:{secret[:20]}", f"1234567890:{secret}"):
        masked = mask_personal_data(f"The token `{token}` was rejected by the server.")
        assert masked == f"The token `{MASK}` was rejected by the server.", masked
    assert mask_personal_data("at 12:30 on 23/11") == "at 12:30 on 23/11"  # times stay
    from telegram.error import InvalidToken

    record = logging.LogRecord("telegram.ext", logging.ERROR, __file__, 1, "Invalid token. Aborting.", None, None)
    try:
        raise InvalidToken(f"The token `222222:{secret}` was rejected by the server.")
    except InvalidToken:
        record.exc_info = sys.exc_info()
    assert PersonalDataFilter().filter(record)
    text = logging.Formatter("%(message)s").format(record)
    assert text == "Invalid token. Aborting. (InvalidToken: the bot token was refused)"


def test_error_descriptions_carry_no_exception_message() -> None:
    try:
        try:
            int("0912345678²")
        except ValueError as inner:
            raise RuntimeError("while reading 8423001234") from inner
    except RuntimeError as exc:
        described = describe_exception(exc)
    assert "builtins.RuntimeError" in described and "builtins.ValueError" in described
    assert "0912345678" not in described and "8423001234" not in described
    assert "message withheld" in described


def test_libraries_stay_above_their_floors_at_debug() -> None:
    root = logging.getLogger()
    saved = root.level, {n: logging.getLogger(n).level for n in logsafety.THIRD_PARTY_FLOORS}
    try:
        root.setLevel(logging.DEBUG)
        for name in logsafety.THIRD_PARTY_FLOORS:
            logging.getLogger(name).setLevel(logging.NOTSET)
        logsafety.quiet_third_party_loggers()
        assert not logging.getLogger("aiosqlite").isEnabledFor(logging.INFO)
        assert not logging.getLogger("telegram.ext.ExtBot").isEnabledFor(logging.DEBUG)
        assert not logging.getLogger("httpx").isEnabledFor(logging.INFO)
    finally:
        root.setLevel(saved[0])
        for name, level in saved[1].items():
            logging.getLogger(name).setLevel(level)
