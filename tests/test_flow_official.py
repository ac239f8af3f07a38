"""The officials' flow (/baocao, /tomtat) through the conversation core, without any chat platform.

/baocao answers with the summary, the chart (PNG) and the workbook (XLSX) with the captions of
the evening round, on any channel; refusals and junk arguments are answered and change nothing.
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.chat.layout import FileLink, layout
from bot.chat.model import ZALO_OA, Menu, Reply
from bot.chat.texts.common import LAYOUT_TEXTS
from bot.domain.clock import ManualClock
from tests.flow_harness import FlowWorld, RecordingChat
from tests.test_e2e_membership import code_in
from tests.test_e2e_summaries import AGENT_MY_CAM, CITIZEN, MONDAY, TAN_AN, seed

pytestmark = pytest.mark.asyncio

ZALO_ID = "8457962349872349236"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(MONDAY)


def _replies(chat: RecordingChat) -> list[Reply]:
    return [o for o in chat.last if isinstance(o, Reply)]


async def _prefs(world: FlowWorld) -> list[Any]:
    rows = await world.services.storage.db.fetchall("SELECT * FROM summary_prefs ORDER BY member_id")
    return [tuple(row) for row in rows]


async def test_baocao_gives_the_summary_the_chart_and_the_workbook(world: FlowWorld) -> None:
    await seed(world.services)
    official = world.chat(TAN_AN[0], first_name="My")
    await official.text("/baocao")
    text, chart, workbook = _replies(official)
    assert text.text.plain.startswith("📊 Tổng hợp 23/11/2026 · Xã Tân An")
    assert not text.files and [r.text for r in text.text.runs if r.style.italic][-1].startswith("Biểu đồ và bảng")
    (png,) = chart.files
    (xlsx,) = workbook.files
    assert (png.kind, xlsx.kind) == ("png", "xlsx")
    assert png.content.startswith(b"\x89PNG") and xlsx.content.startswith(b"PK")
    assert png.caption is not None and png.caption.plain == "Tiến độ BHYT so với chỉ tiêu · Xã Tân An"
    assert xlsx.caption is not None and xlsx.caption.plain.startswith("Bảng tổng hợp đầy đủ: bao phủ BHYT")
    # On Zalo the same replies become plain text, the image, and a download link for the XLSX.
    zalo = [message for reply in (text, chart, workbook) for message in layout(reply, ZALO_OA, texts=LAYOUT_TEXTS)]
    assert all("<b>" not in m.text and "<i>" not in m.text for m in zalo)
    assert any(isinstance(m.file, FileLink) and m.file.file.name == xlsx.name for m in zalo)


async def test_a_zalo_official_switches_summaries_and_asks_for_a_range(world: FlowWorld) -> None:
    await seed(world.services)
    admin = world.chat(900001, first_name="Admin")
    await admin.text("/moi canbo CL06")
    zalo = world.chat(ZALO_ID, channel="zalo_oa", first_name="Hà")
    await zalo.text(f"/thamgia {code_in(admin.said())}")
    await zalo.text("/tomtat")
    assert zalo.said().startswith("Tin tổng hợp hằng ngày (lúc 17:00): đang bật.")
    await zalo.text("/tomtat tat")
    assert zalo.said().startswith("Đã tắt tin tổng hợp hằng ngày")
    await zalo.text("/tomtat tuan bat")
    assert zalo.said().startswith("Đã bật tin tổng hợp hằng tuần")
    await zalo.text("/tomtat")
    assert "hằng ngày (lúc 17:00): đang tắt" in zalo.said() and "hằng tuần (thứ Hai): đang bật" in zalo.said()
    await zalo.text("/baocao CL06 01/11/2026 23/11/2026")
    text, _, workbook = _replies(zalo)
    assert text.text.plain.startswith("📊 Báo cáo 01/11/2026–23/11/2026 · Xã Tân An")
    assert workbook.files[0].name == "bao-cao_2026-11-01_2026-11-23_xa-tan-an.xlsx"


async def test_refusals_and_junk_are_answered_and_change_nothing(world: FlowWorld) -> None:
    await seed(world.services)
    official = world.chat(TAN_AN[0], first_name="My")
    await official.text("/tomtat")
    before = await _prefs(world)
    answers = {
        "/baocao " + "x" * 10_000: "Lệnh dài quá. Gõ /baocao, hoặc /baocao MÃ_ĐƠN_VỊ 01/11/2026 23/11/2026.",
        "/baocao XX<b>99": "Không tìm thấy đơn vị «XX<b>99» trong địa bàn bạn phụ trách.",
        "/baocao CL02": "Không tìm thấy đơn vị «CL02»",
        "/baocao 31/02/2026 23/11/2026": "Ngày chưa đúng.",
        "/baocao 01/12/2026 31/12/2026": "Ngày chưa đúng.",
        "/tomtat 🙂🙂🙂": "Tin tổng hợp hằng ngày (lúc 17:00): đang bật.",
        "/tomtat " + "tat " * 3000: "Tin tổng hợp hằng ngày (lúc 17:00): đang bật.",
        "/tomtat tuan": "Tin tổng hợp hằng ngày (lúc 17:00): đang bật.",
    }
    for command, expected in answers.items():
        await official.text(command)
        (reply,) = _replies(official)
        assert reply.text.plain.startswith(expected), command
        assert not reply.files, command
    citizen = world.chat(CITIZEN, first_name="Lan")
    agent = world.chat(AGENT_MY_CAM[0], first_name="Tài")
    zalo_citizen = world.chat(ZALO_ID, channel="zalo_oa")
    for chat, marker in ((citizen, "dành cho cán bộ phụ trách và tổ trưởng"), (agent, "/toi"),
                         (zalo_citizen, "dành cho cán bộ phụ trách và tổ trưởng")):
        for command in ("/baocao", "/baocao CL", "/tomtat tat"):
            await chat.text(command)
            (reply,) = [o for o in chat.last if not isinstance(o, Menu)]
            assert isinstance(reply, Reply) and marker in reply.text.plain and not reply.files, command
    assert await _prefs(world) == before
