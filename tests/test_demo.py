"""The offline demo a newcomer runs first: a scripted walk-through prints a working conversation."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

from bot.devtools.demo.session import run_demo


async def test_scripted_demo_prints_a_cost_conversation() -> None:
    out = io.StringIO()
    code = await run_demo(
        on=date(2026, 11, 23),
        out=out,
        lines=["/start", "bhyt ho gia dinh 3 nguoi", "#3", "#99", ":khong-co", "bhxh tu nguyen 800k"],
    )
    transcript = out.getvalue()
    assert code == 0
    assert "[1] 🏥 BHYT hộ gia đình" in transcript
    assert "[3] 12 tháng" in transcript
    assert "Tổng: 3.142.260 đ" in transcript
    assert "(không bấm được" in transcript  # #99: no such button, said plainly
    assert "thấp nhất là 1.500.000 đ" in transcript


def test_demo_script_option_from_the_command_line(tmp_path: Path) -> None:
    script = tmp_path / "walk.txt"
    script.write_text("/start\n#1\n#2\n#3\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    result = subprocess.run(
        [sys.executable, "-m", "bot", "demo", "--script", str(script), "--date", "23/11/2026"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "Tổng: 2.322.540 đ" in result.stdout  # household of 2, 12 months
