"""The agents' part of `./dev demo`: a few entries already logged on the sample trees, and
`:ghi`, which makes the newcomer the sample agent and shows what to type.

Registered in devtools/demo/session.py (DEMO_SEEDERS, META_COMMANDS). The entries are logged through
`EnrolmentService.log`, exactly as the chat does, by the sample roster's people (not by the
demo personas), so /bangxephang and /nhom have something to show and the newcomer's own /ghi
visibly moves them. Participants' names and codes are invented.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.domain.enrolment import parse_line
from bot.domain.roles import Role

if TYPE_CHECKING:
    from bot.services import Services
    from devtools.demo.session import DemoSession

SAMPLE_UNITS = ("CL06", "CL07")
SAMPLE_LINES = (
    "bhyt Nguyễn Văn Út {code} 12 tháng",
    "bhyt hgd Trần Thị Thu {code} 12 tháng người thứ 2",
    "bhxh Lê Văn Sáu {code} 2tr hằng tháng người thân",
    "bhyt cận nghèo Võ Thị Bảy {code} 6 tháng",
    "bhxh Đặng Thị Tám {code} 1tr5 3 tháng",
)
AGENT_PERSONA = "vandong"

GUIDE = """\
(bạn đang là {name}: người vận động Nhóm 1, Xã Tân An)
Thử ghi một người tham gia, rồi xem kết quả:
  /ghi bhyt Nguyễn Văn An 8423001234 12 tháng       ghi một dòng, rồi #1 (Xác nhận)
  /ghi bhxh Trần Thị Bình 8423005678 2tr 12 tháng người thân
  /ghi                                               ghi từng bước bằng nút bấm
  /toi   /nhom   /bangxephang   /thidua              kết quả của bạn, của tổ, bảng xếp hạng
  /huy                                               huỷ bản ghi vừa ghi nhầm (24 giờ)
Gõ lại cùng mã để thấy bot từ chối ghi trùng. :ai totruong rồi /xuat để xuất báo cáo tháng."""


async def seed_enrolments(services: Services) -> None:
    """Two or three entries by each roster member of the sample communes, logged today."""
    from devtools.demo.session import PERSONAS

    persona_ids = {p.user_id for p in PERSONAS.values()}
    members = await services.members.in_units(list(SAMPLE_UNITS), limit=100)
    sequence = 0
    for index, detail in enumerate(members):
        member = detail.member
        if member.user_id in persona_ids or member.role not in (Role.AGENT, Role.TEAM_LEADER):
            continue
        for k in range(2 + index % 2):
            sequence += 1
            line = SAMPLE_LINES[(index + k) % len(SAMPLE_LINES)].format(code=f"99{sequence:08d}")
            await services.enrolments.log(member, parse_line(line).draft)


async def become_agent(services: Services, session: DemoSession, args: str) -> str:
    """`:ghi`: switch to the sample agent and print how to log and see the tallies."""
    from devtools.demo.session import PERSONAS

    persona = PERSONAS.get(AGENT_PERSONA)
    if persona is None:
        return "(chưa có vai người vận động trong bản demo này)"
    session.persona = persona
    return GUIDE.format(name=persona.first_name)
