"""Vietnamese texts of the organisation side: invites, joining, units, members, coverage.

HTML parse mode: names of people and units come from imports and chat profiles, so every one
goes through `esc`. Messages stay well under Telegram's 4096 characters: long lists are cut
with a pointer to the command that shows more.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.chat.texts.cost import esc
from bot.domain.coverage import CoverageRow, Figure, Measure, format_coverage_pct, format_remaining
from bot.domain.money import format_number, format_pct
from bot.domain.records import MemberDetail, MemberEvent, Unit
from bot.domain.roles import ROLE_LABELS, Role
from bot.services.organisation import (
    InviteCreated,
    Joined,
    MembersPage,
    MemberView,
    Reason,
    Refused,
    UnitsView,
)

# (command, description) for the Telegram menu; bot/chat/commands.py picks them per role.
ORG_COMMANDS: list[tuple[str, str]] = [
    ("thamgia", "Tham gia bằng mã mời: /thamgia MÃ"),
    ("vaitro", "Vai trò và đơn vị của tôi"),
    ("moi", "Tạo mã mời người vận động, tổ trưởng, cán bộ"),
    ("donvi", "Danh sách đơn vị trong phạm vi của tôi"),
    ("thanhvien", "Danh sách thành viên; đổi vai trò, đơn vị, ngừng hoạt động"),
    ("baophu", "Tỷ lệ bao phủ BHYT, BHXH so với chỉ tiêu"),
]

MAX_LIST_LINES = 40

ROLE_WORDS: dict[str, Role] = {
    # what people type after /moi or /suatv (compared without diacritics and spaces)
    "agent": Role.AGENT, "nguoivandong": Role.AGENT, "nvd": Role.AGENT, "ctv": Role.AGENT,
    "congtacvien": Role.AGENT, "daily": Role.AGENT, "nhanvienthu": Role.AGENT, "vandong": Role.AGENT,
    "teamleader": Role.TEAM_LEADER, "team_leader": Role.TEAM_LEADER, "totruong": Role.TEAM_LEADER,
    "truongnhom": Role.TEAM_LEADER, "leader": Role.TEAM_LEADER, "tt": Role.TEAM_LEADER,
    "official": Role.OFFICIAL, "canbo": Role.OFFICIAL, "cb": Role.OFFICIAL,
    "canbophutrach": Role.OFFICIAL,
}
ROLE_SHORT = {Role.AGENT: "a", Role.TEAM_LEADER: "t", Role.OFFICIAL: "o"}
ROLE_FROM_SHORT = {v: k for k, v in ROLE_SHORT.items()}

BUTTON_NO_TEAM = "Không vào nhóm nào"
BUTTON_NEW_PERSON = "➕ Người mới"
BUTTON_UP = "⬆️ Lên cấp trên"
BUTTON_MEMBERS = "👥 Thành viên"
BUTTON_COVERAGE = "📊 Bao phủ"
BUTTON_PREV = "◀️ Trước"
BUTTON_NEXT = "Sau ▶️"
BUTTON_DEACTIVATE = "⛔ Ngừng hoạt động"
BUTTON_CONFIRM_DEACTIVATE = "⛔ Xác nhận ngừng"
BUTTON_BACK = "↩️ Quay lại"
BUTTON_CANCEL = "✖️ Huỷ"


def role_label(role: Role | str) -> str:
    try:
        return ROLE_LABELS[Role(role)]
    except ValueError:
        return esc(str(role))


def unit_label(unit: Unit | None, code: str | None = None) -> str:
    if unit is None:
        return esc(code or "")
    return f"{esc(unit.name)} ({esc(unit.code)})"


def when(moment: datetime | str) -> str:
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.strftime("%H:%M %d/%m/%Y")


# ---- refusals --------------------------------------------------------------------------------

CITIZEN_REFUSAL = (
    "Lệnh này dành cho cán bộ phụ trách và người vận động đã được mời, nên bot chưa làm được "
    "cho bạn. Nếu bạn được giao vận động, hãy xin cán bộ phụ trách một mã mời rồi gửi "
    "/thamgia MÃ. Muốn tính tiền đóng BHYT, BHXH tự nguyện, bạn bấm /start nhé."
)


def refusal(refused: Refused) -> str:
    reason = refused.reason
    detail = esc(refused.detail or "")
    if reason == Reason.CITIZEN:
        return CITIZEN_REFUSAL
    if reason == Reason.NOT_ALLOWED:
        return (
            "Việc này chỉ cán bộ phụ trách hoặc quản trị viên làm được "
            f"(bạn đang là {role_label(refused.detail or '')}). Cần giúp, bạn liên hệ cán bộ phụ trách."
        )
    if reason == Reason.UNIT_NOT_FOUND:
        return (
            f"Không tìm thấy đơn vị <b>{detail}</b> trong phạm vi của bạn. "
            "Xem các đơn vị bạn quản lý: /donvi"
        )
    if reason == Reason.TEAM_NOT_FOUND:
        return f"Không tìm thấy nhóm <b>{detail}</b> trong phạm vi của bạn. Xem nhóm của một đơn vị: /donvi MÃ"
    if reason == Reason.MEMBER_NOT_FOUND:
        return "Không tìm thấy thành viên này trong phạm vi của bạn. Xem danh sách: /thanhvien"
    if reason == Reason.ROLE_TOO_HIGH:
        return (
            "Bạn chỉ mời hoặc giao được vai trò không cao hơn vai trò của mình: "
            "người vận động (agent), tổ trưởng (totruong) hoặc cán bộ phụ trách (canbo)."
        )
    if reason == Reason.SELF:
        return "Bạn không tự đổi vai trò hay tự ngừng hoạt động được. Nhờ quản trị viên làm việc này."
    if reason == Reason.ALREADY_MEMBER:
        role, _, unit = (refused.detail or "").partition("|")
        return (
            f"Bạn đã là {role_label(role)} của {esc(unit)} rồi, không cần mã mời nữa. "
            "Muốn đổi vai trò hay đơn vị, bạn nhờ cán bộ phụ trách."
        )
    if reason == Reason.IS_ADMIN:
        return "Bạn là quản trị viên nên không cần mã mời."
    if reason == Reason.INVALID_CODE:
        return INVALID_CODE
    if reason == Reason.THROTTLED:
        return (
            "Bạn đã nhập sai mã nhiều lần. Để an toàn, bạn thử lại sau "
            f"{refused.minutes or 60} phút nhé."
        )
    if reason == Reason.NO_UNITS:
        return "Chưa có đơn vị nào. Quản trị viên nhập danh sách đơn vị bằng: bhxh-bot import units TỆP"
    return "Không làm được việc này."


INVALID_CODE = (
    "Mã mời không đúng, đã dùng hoặc đã hết hạn. Bạn kiểm tra lại mã "
    "(10 ký tự, ví dụ ABCDE-FGHJK) hoặc xin cán bộ phụ trách một mã mới."
)

# ---- invites and joining ---------------------------------------------------------------------

INVITE_USAGE = (
    "Tạo mã mời nhanh: <code>/moi VAI_TRÒ MÃ_ĐƠN_VỊ [MÃ_NHÓM]</code>\n"
    "Vai trò: <code>agent</code> (người vận động), <code>totruong</code> (tổ trưởng), "
    "<code>canbo</code> (cán bộ phụ trách).\n"
    "Ví dụ: <code>/moi agent CL06</code> hoặc <code>/moi totruong CL06 CL06-NHOM1</code>"
)
ASK_ROLE = "Mời người tham gia với vai trò nào?"
JOIN_USAGE = (
    "Gửi mã mời mà cán bộ phụ trách đưa cho bạn, ví dụ: <code>/thamgia ABCDE-FGHJK</code>\n"
    "Chưa có mã? Bạn liên hệ cán bộ BHXH hoặc UBND xã nơi bạn được giao vận động."
)
BAD_INVITE_LINE = "Bot chưa hiểu lệnh. " + INVITE_USAGE


def ask_unit(role: Role) -> str:
    return (
        f"Mời <b>{role_label(role)}</b> vào đơn vị nào?\n"
        "Đơn vị cấp dưới không có trong nút: gõ <code>/moi VAI_TRÒ MÃ_ĐƠN_VỊ</code>."
    )


def ask_team(role: Role, unit: Unit) -> str:
    return f"Mời <b>{role_label(role)}</b> của {unit_label(unit)} vào nhóm nào?"


def ask_person(unit: Unit) -> str:
    return (
        f"Danh sách nhóm của {unit_label(unit)} đã có những người sau nhưng họ chưa kết nối bot. "
        "Mã mời này dành cho ai?"
    )


def invite_created(invite: InviteCreated, hours: int) -> str:
    lines = [
        "🎟 <b>Mã mời</b> (dùng một lần):",
        f"<code>{invite.code}</code>",
        f"Vai trò: {role_label(invite.role)} · {unit_label(invite.unit)}",
    ]
    if invite.team is not None:
        lines.append(f"Nhóm: {esc(invite.team.name)} ({esc(invite.team.code)})")
    if invite.member_name:
        lines.append(f"Dành cho: {esc(invite.member_name)}")
    lines += [
        f"Hết hạn lúc {when(invite.expires_at)} ({hours} giờ).",
        "",
        f"Người được mời mở bot và gửi: <code>/thamgia {invite.code}</code>",
        "Chỉ đưa mã cho đúng người (nhắn riêng hoặc đọc qua điện thoại); bot không bao giờ hỏi mật khẩu hay OTP.",
    ]
    return "\n".join(lines)


def joined(result: Joined, name: str) -> str:
    lines = [
        f"🎉 Chào mừng {esc(name)}! Bạn đã là <b>{role_label(result.role)}</b> của {unit_label(result.unit)}."
    ]
    if result.team is not None:
        lines.append(f"Nhóm tháng này: {esc(result.team.name)}.")
    lines.append("")
    lines.append(commands_for(result.role))
    return "\n".join(lines)


def commands_for(role: Role) -> str:
    lines = ["Các lệnh của bạn:"]
    if role in (Role.AGENT, Role.TEAM_LEADER, Role.OFFICIAL, Role.ADMIN):
        lines += [
            "/ghi ghi người tham gia mới · /huy huỷ bản ghi vừa ghi nhầm",
            "/toi kết quả của tôi · /nhom kết quả của nhóm · /bangxephang bảng xếp hạng",
        ]
    if role in (Role.TEAM_LEADER, Role.OFFICIAL, Role.ADMIN):
        lines.append("/xuat 11/2026 xuất báo cáo tháng (Phụ lục 02)")
    if role in (Role.OFFICIAL, Role.ADMIN):
        lines.append("/moi tạo mã mời · /donvi đơn vị · /thanhvien thành viên · /baophu bao phủ")
    lines.append("/vaitro xem lại vai trò của bạn")
    return "\n".join(lines)


def my_role(role: Role, unit: Unit | None, team_name: str | None, admin_scope_all: bool) -> str:
    if role == Role.CITIZEN:
        return (
            "Bạn đang dùng bot với tư cách người dân: tính tiền đóng BHYT, BHXH tự nguyện (/start).\n"
            "Nếu bạn được giao vận động, hãy xin cán bộ phụ trách mã mời rồi gửi /thamgia MÃ."
        )
    where = "toàn bộ các đơn vị" if admin_scope_all else unit_label(unit)
    lines = [f"Bạn là <b>{role_label(role)}</b> · {where}."]
    if team_name:
        lines.append(f"Nhóm tháng này: {esc(team_name)}.")
    lines += ["", commands_for(role)]
    return "\n".join(lines)


# ---- units -----------------------------------------------------------------------------------


def _figures_line(unit: Unit) -> str:
    parts = []
    if unit.population is not None:
        parts.append(f"dân số {format_number(unit.population)}")
    if unit.labour_force is not None:
        parts.append(f"LLLĐ {format_number(unit.labour_force)}")
    if unit.staff_count is not None:
        parts.append(f"{format_number(unit.staff_count)} cán bộ")
    return " · ".join(parts)


def units_view(view: UnitsView) -> str:
    if view.unit is None:
        lines = [f"🏛 <b>Các đơn vị cấp cao nhất</b> ({len(view.children)}):"]
    else:
        unit = view.unit
        crumbs = " › ".join(esc(u.name) for u in view.path)
        lines = []
        if crumbs:
            lines.append(f"<i>{crumbs}</i>")
        head = f"🏛 <b>{esc(unit.name)}</b> ({esc(unit.code)})"
        if unit.level:
            head += f" · {esc(unit.level)}"
        lines.append(head)
        figures = _figures_line(unit)
        if figures:
            lines.append(figures[0].upper() + figures[1:])
        lines.append(f"Thành viên tại đơn vị: {view.members}")
        if view.teams:
            lines.append("Nhóm: " + ", ".join(f"{esc(t.name)} ({esc(t.code)})" for t in view.teams[:10]))
        if view.children:
            lines.append(f"\nĐơn vị trực thuộc ({len(view.children)}):")
        else:
            lines.append("Không có đơn vị trực thuộc.")
    for line in view.children[:MAX_LIST_LINES]:
        extra = f" · {line.children} đơn vị con" if line.children else ""
        lines.append(f"• {esc(line.unit.code)} {esc(line.unit.name)} · {line.members} thành viên{extra}")
    if len(view.children) > MAX_LIST_LINES:
        lines.append(f"… và {len(view.children) - MAX_LIST_LINES} đơn vị khác: gõ /donvi MÃ để xem.")
    return "\n".join(lines)


# ---- members ---------------------------------------------------------------------------------


def _member_line(number: int, detail: MemberDetail) -> str:
    m = detail.member
    linked = "" if m.user_id is not None else " · chưa kết nối bot"
    return f"{number}. #{m.id} {esc(m.full_name)} · {role_label(m.role)} · {esc(m.unit_code)}{linked}"


def members_page(page: MembersPage) -> str:
    where = unit_label(page.unit) if page.unit else "tất cả đơn vị"
    if page.total == 0:
        return f"👥 Chưa có thành viên nào ở {where}. Mời người tham gia: /moi"
    lines = [f"👥 <b>Thành viên</b> · {where} · {page.total} người · trang {page.page + 1}/{page.pages}"]
    start = page.page * 10
    lines += [_member_line(start + i + 1, d) for i, d in enumerate(page.items)]
    lines.append("\nBấm tên để xem, đổi vai trò, đổi đơn vị hoặc ngừng hoạt động.")
    return "\n".join(lines)


EVENT_LABELS = {
    "created": "tạo",
    "imported": "nhập từ danh sách nhóm",
    "joined": "tham gia bằng mã mời",
    "claimed": "kết nối bot bằng mã mời",
    "role_changed": "đổi vai trò",
    "unit_changed": "đổi đơn vị",
    "deactivated": "ngừng hoạt động",
}


def _event_line(event: MemberEvent) -> str:
    label = EVENT_LABELS.get(event.action, event.action)
    change = ""
    if event.action == "role_changed":
        change = f": {role_label(event.old_value or '')} → {role_label(event.new_value or '')}"
    elif event.action == "unit_changed":
        change = f": {esc(event.old_value)} → {esc(event.new_value)}"
    who = ""
    if event.actor_member_id is not None:
        who = f" (bởi thành viên #{event.actor_member_id})"
    elif event.actor_user_id is not None:
        who = " (bởi quản trị viên)"
    return f"• {when(event.at)} {label}{change}{who}"


def member_view(view: MemberView, events: Sequence[MemberEvent]) -> str:
    m = view.detail.member
    lines = [
        f"👤 <b>{esc(m.full_name)}</b> (#{m.id})",
        f"Vai trò: {role_label(m.role)}",
        f"Đơn vị: {unit_label(view.unit, m.unit_code)}",
    ]
    if view.detail.title:
        lines.append(f"Chức danh: {esc(view.detail.title)}")
    lines.append("Đã kết nối bot" if m.user_id is not None else "Chưa kết nối bot (mời bằng /moi)")
    if events:
        lines.append("Lịch sử:")
        lines += [_event_line(e) for e in list(events)[-5:]]
    if view.can_manage:
        lines.append(f"\nĐổi đơn vị: <code>/suatv {m.id} MÃ_ĐƠN_VỊ</code>")
    return "\n".join(lines)


def role_button(role: Role) -> str:
    return f"Đổi thành {role_label(role)}"


def confirm_deactivate(detail: MemberDetail) -> str:
    m = detail.member
    return (
        f"Ngừng hoạt động <b>{esc(m.full_name)}</b> (#{m.id}, {role_label(m.role)})? "
        "Người này sẽ không ghi nhận được nữa; các bản ghi cũ vẫn giữ nguyên."
    )


def deactivated(detail: MemberDetail) -> str:
    return f"Đã ngừng hoạt động {esc(detail.member.full_name)} (#{detail.member.id}). Việc này được ghi lại."


def changed(view: MemberView, events: Sequence[MemberEvent]) -> str:
    return "✅ Đã cập nhật.\n" + member_view(view, events)


EDIT_USAGE = (
    "Cách dùng: <code>/suatv SỐ VAI_TRÒ</code> hoặc <code>/suatv SỐ MÃ_ĐƠN_VỊ</code>, "
    "ví dụ <code>/suatv 12 totruong</code>, <code>/suatv 12 CL07</code>. Số thành viên xem ở /thanhvien."
)
REMOVE_USAGE = "Cách dùng: <code>/xoatv SỐ</code> (số thành viên xem ở /thanhvien)."
STALE_BUTTON = "Nút này không còn dùng được. Bạn gõ lại lệnh nhé."

# ---- coverage --------------------------------------------------------------------------------


def _figure_line(label: str, f: Figure) -> str:
    if not f.has_baseline or f.denominator is None:
        return f"{label}: chưa có số liệu nền"
    text = (
        f"{label}: {format_number(f.participants)}/{format_number(f.denominator)} = "
        f"{format_coverage_pct(f.coverage)}"
    )
    if f.target is not None:
        text += f" · chỉ tiêu {format_pct(f.target)} · đạt {format_coverage_pct(f.of_target)}"
    if f.remaining is not None:
        text += f" · còn {format_remaining(f.remaining)}"
    if f.new:
        text += f" (mới {format_number(f.new)})"
    return text


def coverage(unit: Unit, rows: Sequence[CoverageRow]) -> str:
    if not rows:
        return f"Chưa có số liệu bao phủ của {unit_label(unit)}."
    top = rows[0]
    lines = [f"📊 <b>Bao phủ · {esc(top.name)}</b>"]
    for measure in (Measure.BHYT, Measure.BHXH, Measure.BHXH_TN, Measure.BHTN):
        f = top[measure]
        if f.has_baseline or f.target is not None:
            lines.append(_figure_line({"bhyt": "BHYT", "bhxh": "BHXH", "bhxh_tn": "BHXH TN", "bhtn": "BHTN"}[measure.value], f))
    kids = [r for r in rows if r.parent_code == top.code]
    if kids:
        lines.append("\nBHYT theo đơn vị (tỷ lệ · % chỉ tiêu · còn phải vận động):")
        ordered = sorted(kids, key=lambda r: (r.bhyt.coverage is None, r.bhyt.coverage or 0))
        for row in ordered[:MAX_LIST_LINES]:
            f = row.bhyt
            if f.has_baseline:
                lines.append(
                    f"• {esc(row.name)}: {format_coverage_pct(f.coverage)} · {format_coverage_pct(f.of_target)}"
                    f" · {format_remaining(f.remaining)}"
                )
            elif f.target is not None:
                lines.append(f"• {esc(row.name)}: kế hoạch {format_coverage_pct(f.target)} (chưa có số liệu nền)")
            else:
                lines.append(f"• {esc(row.name)}: chưa có số liệu")
        if len(kids) > MAX_LIST_LINES:
            lines.append(f"… và {len(kids) - MAX_LIST_LINES} đơn vị khác.")
    lines.append("\nSố trong ngoặc: đã vượt chỉ tiêu. Số liệu = số liệu nền + người tham gia mới ghi nhận qua bot.")
    return "\n".join(lines)
