"""The offline demo a newcomer runs first: a scripted walk-through prints a working conversation."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from devtools.demo.session import run_demo


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
        [sys.executable, "-m", "devtools.demo", "--script", str(script), "--date", "23/11/2026"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "Tổng: 2.322.540 đ" in result.stdout  # household of 2, 12 months


def test_the_zalo_demo_runs_through_with_stdin_closed(tmp_path: Path) -> None:
    """`./dev demo --channel zalo </dev/null`: every step runs against the real HTTP server and
    Zalo adapter and the emulator, and the terminal shows what the emulator received."""
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    result = subprocess.run(
        [sys.executable, "-m", "devtools.demo", "--channel", "zalo", "--date", "23/11/2026"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120, stdin=subprocess.DEVNULL,
    )
    out = result.stdout
    assert result.returncode == 0, result.stderr[-2000:] + out[-2000:]
    assert "không chạy được" not in out and "Traceback" not in result.stderr
    # The free-text question and the same question by buttons give the same total.
    assert out.count("Tổng: 3.142.260 đ") == 2
    assert "(Zalo gửi lại mã ẩn của nút: #a:" in out
    assert "     [5] 5 người\nBot: Chọn tiếp:\n     [1] 6 người" in out  # 6 choices: 5 + 1
    # The official's summary: the round sent its three parts, the chart was uploaded, the
    # workbook's link downloads, then is refused once it expired.
    # The ZNS step, through the product's wiring (bhxh-bot run builds the queue and the receipts hook):
    # the persona's own figures reach her phone, every receipt settles its row, the summary counts them.
    assert "Zalo của số 84912000001 nhận tin ZNS" in out
    assert "so_tien: 4.371.840 đ" in out and "ma_bhxh_che: ******0001" in out
    sent = re.search(r"lượt nhắc: (\d+) tin ZNS đã gửi, 0 còn chờ", out)
    assert sent is not None and int(sent.group(1)) > 1
    assert f"bot ghi {sent.group(1)} tin «đã nhận»" in out
    assert f"qua ZNS {sent.group(1)} tin, Zalo xác nhận đã giao {sent.group(1)}, bị từ chối 0, chưa rõ 0" in out
    assert "1 người nhận, 3 phần đã gửi" in out
    assert "[ảnh biểu đồ đã tải lên Zalo: " in out
    assert "Mở liên kết: HTTP 200, tệp «tong-hop_2026-11-23_huyen-cang-long.xlsx»" in out
    assert "Mở lại liên kết: HTTP 404: " in out
    assert out.rstrip().endswith("=== Hết demo Zalo. Chat thử trên Telegram giả lập: ./dev demo ===")


def test_the_installed_command_points_to_dev_demo(capsys: pytest.CaptureFixture[str]) -> None:
    """`bhxh-bot demo` (the product) cannot run the demo, which lives in the development package:
    it says where the demo went, in English and Vietnamese, and fails, whatever options it gets."""
    from bot.cli import EXIT_CONFIG, main

    assert main(["demo", "--script", "walk.txt"]) == EXIT_CONFIG
    err = capsys.readouterr().err
    assert "./dev demo" in err and "development tool" in err and "công cụ phát triển" in err


# Every product module is imported, and the command line run, with the development package and
# aiohttp made unimportable: what `pip install .` (no extras) gives.
WITHOUT_DEV_EXTRAS = """
import importlib, pkgutil, sys
sys.modules["aiohttp"] = None
sys.modules["devtools"] = None
names = []
for package in ("bot", "handlers", "scheduler", "storage"):
    root = importlib.import_module(package)
    names += [m.name for m in pkgutil.walk_packages(root.__path__, package + ".")]
for name in names:
    if not name.endswith("__main__"):
        importlib.import_module(name)
from bot.cli import main
assert main(["rates", "--date", "23/11/2026"]) == 0
print("imported", len(names))
sys.exit(main(["run"]))
"""


def test_the_product_runs_without_the_demo_extra(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT_DEV_EXTRAS],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
    )
    assert result.returncode == 2, result.stderr[-2000:]  # no token: one line, no traceback
    assert int(result.stdout.split("imported ")[1].split()[0]) > 50
    assert "TELEGRAM_BOT_TOKEN is missing" in result.stderr and "./dev demo" in result.stderr
    assert "Traceback" not in result.stderr
