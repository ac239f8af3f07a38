"""Uploads: hostile and large lists read within bounds, and nobody waits for them.

`python -m bench.bench_uploads` (by hand; figures in the README).

1. Each file is parsed in a fresh subprocess (`parse_card_file`, the chat cap or the CLI cap),
   reporting the outcome, wall time and the subprocess's peak RSS: the hostile workbooks of
   issue 12 (a 2 KiB sheet declared to XFD120000, a row numbered 1.048.576, millions of shared
   strings, a zip bomb, a sheet of millions of empty cells) and large valid lists.
2. The real bot on the emulator, production rate limiter: while an admin uploads a 20.000-row
   list (the chat cap) five times in a row, a citizen asks cost questions one after another;
   the citizen's reply latency is reported (median and worst), next to the same figure with
   nobody uploading.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from bench.common import bot_on_emulator, report, timed

ADMIN = 900_001
CITIZEN = 500_001

_CHILD = """
import sys, time
from bot.imports.cards import CardFileError, parse_card_file
data = open(sys.argv[1], "rb").read()
start = time.perf_counter()
try:
    parsed = parse_card_file(data, sys.argv[2], int(sys.argv[3]))
    outcome = f"read {len(parsed.rows)} cards"
except CardFileError as exc:
    outcome = f"refused: {exc.problem.value}"
seconds = time.perf_counter() - start
# VmHWM, not ru_maxrss: Linux keeps ru_maxrss across exec, so it would show the parent's peak.
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(f"{outcome}|{seconds:.2f}|{hwm / 1024:.0f}")
"""


def _files() -> list[tuple[str, Callable[[], bytes], str]]:
    from devtools import hostile_files as h

    def valid(rows: int) -> Callable[[], bytes]:
        return lambda: h.xlsx_of([h.row_xml(1, h.CARD_HEADER), *h.card_rows(rows)], dimension=f"A1:D{rows + 1}")

    def csv_list(rows: int) -> Callable[[], bytes]:
        def make() -> bytes:
            lines = ["Họ và tên,Mã số BHXH,Mã đơn vị,Hạn thẻ đến"]
            lines += [f"Người {i},{8400000000 + i},CL13,31/12/2026" for i in range(rows)]
            return "\n".join(lines).encode()
        return make

    return [
        ("sheet declared A1:XFD120000", h.huge_declared_range, "x.xlsx"),
        ("row 1.048.576, declared", h.last_row_numbered, "x.xlsx"),
        ("row 1.048.576, no dimension", lambda: h.last_row_numbered(None), "x.xlsx"),
        ("3.000.000 shared strings, declared", lambda: h.many_shared_strings(3_000_000), "x.xlsx"),
        ("3.000.000 shared strings, undeclared", lambda: h.many_shared_strings(3_000_000, declared=False), "x.xlsx"),
        ("zip bomb, 1 GiB unpacked", lambda: h.zip_bomb(1024), "x.xlsx"),
        ("1.300.000 rows of empty cells", lambda: h.many_cells(1_300_000), "x.xlsx"),
        ("valid list, 20.000 rows (XLSX)", valid(20_000), "x.xlsx"),
        ("valid list, 200.000 rows (XLSX)", valid(200_000), "x.xlsx"),
        ("valid list, 200.000 rows (CSV)", csv_list(200_000), "x.csv"),
    ]


def parse_in_subprocesses() -> None:
    from bot.imports.cards import CHAT_MAX_ROWS, MAX_ROWS

    root = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory() as tmp:
        for label, make, name in _files():
            path = Path(tmp) / "upload.bin"
            path.write_bytes(make())
            size_kib = path.stat().st_size / 1024
            for cap in (CHAT_MAX_ROWS, MAX_ROWS):
                if "200.000 rows" in label and cap == CHAT_MAX_ROWS:
                    continue
                out = subprocess.run(
                    [sys.executable, "-c", _CHILD, str(path), name, str(cap)],
                    capture_output=True, text=True, cwd=root, timeout=600, check=True,
                ).stdout.strip().splitlines()[-1]
                outcome, seconds, rss = out.split("|")
                report(f"parse {label}", size_kib=f"{size_kib:,.0f}", cap=cap, outcome=outcome,
                       seconds=seconds, peak_rss_mib=rss)


async def _latency(uploads: int) -> None:
    from devtools import hostile_files as h

    os.environ["ADMIN_TELEGRAM_IDS"] = str(ADMIN)
    big = h.xlsx_of([h.row_xml(1, h.CARD_HEADER), *h.card_rows(19_999)], dimension="A1:D20000")
    async with bot_on_emulator(True, datetime(2026, 11, 23, 9, 0)) as (emulator, _app):
        admin = emulator.user(ADMIN, first_name="Quản trị")
        citizen = emulator.user(CITIZEN, first_name="Tư")
        latencies: list[float] = []
        done = asyncio.Event()

        async def ask_while(stop: asyncio.Event) -> None:
            while not stop.is_set():
                start = time.perf_counter()
                reply = await citizen.ask("bhyt hộ gia đình 3 người 12 tháng", timeout=120)
                latencies.append(time.perf_counter() - start)
                assert "đ" in reply.plain_text
                await asyncio.sleep(0.05)

        async def upload_all() -> float:
            with timed() as t:
                for i in range(uploads):
                    await admin.send_document(f"lon_{i}.xlsx", big)
                    (answer,) = await admin.replies(timeout=300)
                    assert "nhập 19999 người" in answer.plain_text, answer.plain_text
            done.set()
            return t.seconds

        asker = asyncio.create_task(ask_while(done))
        if uploads:
            seconds = await upload_all()
        else:
            await asyncio.sleep(5)
            done.set()
            seconds = 5.0
        await asker
        label = f"citizen reply latency while an admin uploads {uploads} × 20.000-row XLSX" if uploads else (
            "citizen reply latency, nobody uploading")
        report(
            label,
            upload_seconds=f"{seconds:.1f}",
            questions=len(latencies),
            median_ms=f"{statistics.median(latencies) * 1000:.0f}",
            worst_ms=f"{max(latencies) * 1000:.0f}",
        )


def run() -> None:
    parse_in_subprocesses()
    asyncio.run(_latency(0))
    asyncio.run(_latency(5))


if __name__ == "__main__":
    run()
