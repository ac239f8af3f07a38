"""LOG_FORMAT=json: one JSON object per line, with the privacy filter still applied.

Logging is configured once per process (basicConfig), so each case runs in a fresh interpreter
through the real `bot.cli.configure_logging`, and its stderr is read line by line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import TOKEN
from tests.test_cli import run_cli

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = f"""
import logging
from bot.cli import configure_logging
configure_logging("INFO", "FORMAT")
log = logging.getLogger("bot.example")
log.info("linked %s to card %s", "0912 345 678", "7912345678")
log.warning("round done", extra={{"channel": "telegram", "sent": 12, "phone": "+84912345678", "token": "{TOKEN}"}})
try:
    raise ValueError("bad phone 0987654321 in line 3")
except ValueError:
    log.exception("import failed for CCCD 001203004567")
logging.getLogger("bot.example").debug("not shown at INFO")
"""

SECRETS = ("912345678", "912 345 678", "7912345678", "987654321", "001203004567", TOKEN.split(":")[1])


def lines_of(fmt: str) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    env["PYTHONPATH"] = str(ROOT)
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT.replace("FORMAT", fmt)], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stderr.splitlines()


def test_each_record_is_one_json_object_with_its_fields_and_extras() -> None:
    lines = lines_of("json")
    records = [json.loads(line) for line in lines]  # every line parses on its own
    assert [r["level"] for r in records] == ["INFO", "WARNING", "ERROR"]
    assert {r["logger"] for r in records} == {"bot.example"}
    assert all(set(r) >= {"time", "level", "logger", "message"} for r in records)
    assert records[0]["time"].endswith("+00:00")
    assert records[1]["message"] == "round done"
    assert (records[1]["channel"], records[1]["sent"]) == ("telegram", 12)  # extras keep their types
    assert "ValueError" in records[2]["exception"] and "Traceback" in records[2]["exception"]


def test_no_phone_code_cccd_or_token_reaches_a_json_line() -> None:
    text = "\n".join(lines_of("json"))
    for secret in SECRETS:
        assert secret not in text
    records = [json.loads(line) for line in text.splitlines()]
    assert records[0]["message"] == "linked [đã ẩn] to card [đã ẩn]"
    assert records[1]["phone"] == "[đã ẩn]" and records[1]["token"] == "[đã ẩn]"
    assert "[đã ẩn]" in records[2]["message"] and "[đã ẩn]" in records[2]["exception"]


def test_the_default_stays_the_readable_text_line() -> None:
    lines = lines_of("text")
    assert lines[0].endswith("INFO bot.example: linked [đã ẩn] to card [đã ẩn]")
    assert not lines[0].startswith("{")


def test_an_unknown_log_format_stops_start_up_naming_it(tmp_path: Path) -> None:
    result = run_cli("run", env={"TELEGRAM_BOT_TOKEN": TOKEN, "LOG_FORMAT": "xml"}, cwd=tmp_path)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "LOG_FORMAT is invalid" in result.stderr
