"""Vietnamese texts of the organisation side: invites, joining, units, members, coverage.

Rich text (bot.chat.rich): names of people and units come from imports and chat profiles and
are literal text by construction, so none can inject markup on any channel. Messages stay well
under Telegram's 4096 characters: long lists are cut with a pointer to the command that shows
more. Plain constants (refusals without styling) stay `str` so tests can compare them with the
visible text; every reply is built with `t(...)` around them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.chat.rich import Rich, b, code, i, lines, t
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

# (command, description) for the command menus; bot/chat/commands.py picks them per role.
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
    """The Vietnamese name of a role; an unknown value is shown as it is (literal text)."""
    try:
        return ROLE_LABELS[Role(role)]
    except ValueError:
        return str(role)


def unit_label(unit: Unit | None, unit_code: str | None = None) -> str:
    """"Name (CODE)", or the bare code when the unit is unknown."""
    if unit is None:
        return unit_code or ""
    return f"{unit.name} ({unit.code})"


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

INVALID_CODE = (
    "Mã mời không đúng, đã dùng hoặc đã hết hạn. Bạn kiểm tra lại mã "
    "(10 ký tự, ví dụ ABCDE-FGHJK) hoặc xin cán bộ phụ trách một mã mới."
)


def refusal(refused: Refused) -> Rich:
    """Why the service refused, in words; what it names (a unit code typed) is literal text."""
    reason = refused.reason
    detail = refused.detail or ""
    if reason == Reason.CITIZEN:
        return t(CITIZEN_REFUSAL)
    if reason == Reason.NOT_ALLOWED:
        return t(
            "Việc này chỉ cán bộ phụ trách hoặc quản trị viên làm được "
            f"(bạn đang là {role_label(refused.detail or '')}). Cần giúp, bạn liên hệ cán bộ phụ trách."
        )
    if reason == Reason.UNIT_NOT_FOUND:
        return t(
            "Không tìm thấy đơn vị ", b(detail), " trong phạm vi của bạn. Xem các đơn vị bạn quản lý: /donvi"
        )
    if reason == Reason.TEAM_NOT_FOUND:
        return t("Không tìm thấy nhóm ", b(detail), " trong phạm vi của bạn. Xem nhóm của một đơn vị: /donvi MÃ")
    if reason == Reason.MEMBER_NOT_FOUND:
        return t("Không tìm thấy thành viên này trong phạm vi của bạn. Xem danh sách: /thanhvien")
    if reason == Reason.ROLE_TOO_HIGH:
        return t(
            "Bạn chỉ mời hoặc giao được vai trò không cao hơn vai trò của mình: "
            "người vận động (agent), tổ trưởng (totruong) hoặc cán bộ phụ trách (canbo)."
        )
    if reason == Reason.SELF:
        return t("Bạn không tự đổi vai trò hay tự ngừng hoạt động được. Nhờ quản trị viên làm việc này.")
    if reason == Reason.ALREADY_MEMBER:
        role, _, unit = detail.partition("|")
        return t(
            f"Bạn đã là {role_label(role)} của {unit} rồi, không cần mã mời nữa. "
            "Muốn đổi vai trò hay đơn vị, bạn nhờ cán bộ phụ trách."
        )
    if reason == Reason.IS_ADMIN:
        return t("Bạn là quản trị viên nên không cần mã mời.")
    if reason == Reason.INVALID_CODE:
        return t(INVALID_CODE)
    if reason == Reason.THROTTLED:
        return t(f"Bạn đã nhập sai mã nhiều lần. Để an toàn, bạn thử lại sau {refused.minutes or 60} phút nhé.")
    if reason == Reason.NO_UNITS:
        return t("Chưa có đơn vị nào. Quản trị viên nhập danh sách đơn vị bằng: bhxh-bot import units TỆP")
    return t("Không làm được việc này.")


# ---- invites and joining ---------------------------------------------------------------------

INVITE_USAGE = lines(
    t("Tạo mã mời nhanh: ", code("/moi VAI_TRÒ MÃ_ĐƠN_VỊ [MÃ_NHÓM]")),
    t(
        "Vai trò: ", code("agent"), " (người vận động), ", code("totruong"), " (tổ trưởng), ",
        code("canbo"), " (cán bộ phụ trách).",
    ),
    t("Ví dụ: ", code("/moi agent CL06"), " hoặc ", code("/moi totruong CL06 CL06-NHOM1")),
)
ASK_ROLE = "Mời người tham gia với vai trò nào?"
JOIN_USAGE = lines(
    t("Gửi mã mời mà cán bộ phụ trách đưa cho bạn, ví dụ: ", code("/thamgia ABCDE-FGHJK")),
    "Chưa có mã? Bạn liên hệ cán bộ BHXH hoặc UBND xã nơi bạn được giao vận động.",
)
BAD_INVITE_LINE = t("Bot chưa hiểu lệnh. ", INVITE_USAGE)


def ask_role() -> Rich:
    """The first step of the guided /moi: which role, with the one-line way below it."""
    return t(ASK_ROLE, "\n\n", INVITE_USAGE)


def ask_unit(role: Role) -> Rich:
    return lines(
        t("Mời ", b(role_label(role)), " vào đơn vị nào?"),
        t("Đơn vị cấp dưới không có trong nút: gõ ", code("/moi VAI_TRÒ MÃ_ĐƠN_VỊ"), "."),
    )


def ask_team(role: Role, unit: Unit) -> Rich:
    return t("Mời ", b(role_label(role)), f" của {unit_label(unit)} vào nhóm nào?")


def ask_person(unit: Unit) -> Rich:
    return t(
        f"Danh sách nhóm của {unit_label(unit)} đã có những người sau nhưng họ chưa kết nối bot. "
        "Mã mời này dành cho ai?"
    )


def invite_created(invite: InviteCreated, hours: int) -> Rich:
    parts: list[str | Rich] = [
        t("🎟 ", b("Mã mời"), " (dùng một lần):"),
        code(invite.code),
        f"Vai trò: {role_label(invite.role)} · {unit_label(invite.unit)}",
    ]
    if invite.team is not None:
        parts.append(f"Nhóm: {invite.team.name} ({invite.team.code})")
    if invite.member_name:
        parts.append(f"Dành cho: {invite.member_name}")
    parts += [
        f"Hết hạn lúc {when(invite.expires_at)} ({hours} giờ).",
        "",
        t("Người được mời mở bot và gửi: ", code(f"/thamgia {invite.code}")),
        "Chỉ đưa mã cho đúng người (nhắn riêng hoặc đọc qua điện thoại); bot không bao giờ hỏi mật khẩu hay OTP.",
    ]
    return lines(*parts)


def joined(result: Joined, name: str) -> Rich:
    """The welcome after /thamgia; `name` as the channel gave it (no name: no name shown)."""
    greeting = f"🎉 Chào mừng {name}! Bạn đã là " if name else "🎉 Chào mừng! Bạn đã là "
    parts: list[str | Rich] = [t(greeting, b(role_label(result.role)), f" của {unit_label(result.unit)}.")]
    if result.team is not None:
        parts.append(f"Nhóm tháng này: {result.team.name}.")
    parts.append("")
    parts.append(commands_for(result.role))
    return lines(*parts)


def commands_for(role: Role) -> str:
    """The commands of a role, as a short list under a welcome or /vaitro."""
    out = ["Các lệnh của bạn:"]
    if role in (Role.AGENT, Role.TEAM_LEADER, Role.OFFICIAL, Role.ADMIN):
        out += [
            "/ghi ghi người tham gia mới · /huy huỷ bản ghi vừa ghi nhầm",
            "/toi kết quả của tôi · /nhom kết quả của nhóm · /bangxephang bảng xếp hạng",
        ]
    if role in (Role.TEAM_LEADER, Role.OFFICIAL, Role.ADMIN):
        out.append("/xuat 11/2026 xuất báo cáo tháng (Phụ lục 02)")
    if role in (Role.OFFICIAL, Role.ADMIN):
        out.append("/moi tạo mã mời · /donvi đơn vị · /thanhvien thành viên · /baophu bao phủ")
    out.append("/vaitro xem lại vai trò của bạn")
    return "\n".join(out)


def staff_hint(role: Role) -> Rich:
    """Under the /start greeting of a member (every role but citizen): the greeting and its
    menu are the citizens' calculator, which members use too, so say what else is theirs."""
    return t(
        "Bạn đang dùng bot với vai trò ", b(role_label(role)),
        ": /ghi ghi người tham gia mới · /vaitro xem đơn vị và các lệnh của bạn.",
    )


def my_role(role: Role, unit: Unit | None, team_name: str | None, admin_scope_all: bool) -> Rich:
    if role == Role.CITIZEN:
        return lines(
            "Bạn đang dùng bot với tư cách người dân: tính tiền đóng BHYT, BHXH tự nguyện (/start).",
            "Nếu bạn được giao vận động, hãy xin cán bộ phụ trách mã mời rồi gửi /thamgia MÃ.",
        )
    where = "toàn bộ các đơn vị" if admin_scope_all else unit_label(unit)
    parts: list[str | Rich] = [t("Bạn là ", b(role_label(role)), f" · {where}.")]
    if team_name:
        parts.append(f"Nhóm tháng này: {team_name}.")
    parts += ["", commands_for(role)]
    return lines(*parts)


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


def units_view(view: UnitsView) -> Rich:
    out: list[str | Rich] = []
    if view.unit is None:
        out.append(t("🏛 ", b("Các đơn vị cấp cao nhất"), f" ({len(view.children)}):"))
    else:
        unit = view.unit
        crumbs = " › ".join(u.name for u in view.path)
        if crumbs:
            out.append(i(crumbs))
        head = t("🏛 ", b(unit.name), f" ({unit.code})")
        if unit.level:
            head += f" · {unit.level}"
        out.append(head)
        figures = _figures_line(unit)
        if figures:
            out.append(figures[0].upper() + figures[1:])
        out.append(f"Thành viên tại đơn vị: {view.members}")
        if view.teams:
            out.append("Nhóm: " + ", ".join(f"{team.name} ({team.code})" for team in view.teams[:10]))
        if view.children:
            out.append(f"\nĐơn vị trực thuộc ({len(view.children)}):")
        else:
            out.append("Không có đơn vị trực thuộc.")
    for line in view.children[:MAX_LIST_LINES]:
        extra = f" · {line.children} đơn vị con" if line.children else ""
        out.append(f"• {line.unit.code} {line.unit.name} · {line.members} thành viên{extra}")
    if len(view.children) > MAX_LIST_LINES:
        out.append(f"… và {len(view.children) - MAX_LIST_LINES} đơn vị khác: gõ /donvi MÃ để xem.")
    return lines(*out)


def unit_command_usage(command: str) -> Rich:
    """How to use a command that takes an optional unit code (/donvi, /thanhvien, /baophu)."""
    return t("Cách dùng: ", code(f"/{command}"), " hoặc ", code(f"/{command} MÃ_ĐƠN_VỊ"))


# ---- members ---------------------------------------------------------------------------------


def _member_line(number: int, detail: MemberDetail) -> str:
    m = detail.member
    linked = "" if m.user_id is not None else " · chưa kết nối bot"
    return f"{number}. #{m.id} {m.full_name} · {role_label(m.role)} · {m.unit_code}{linked}"


def members_page(page: MembersPage) -> Rich:
    where = unit_label(page.unit) if page.unit else "tất cả đơn vị"
    if page.total == 0:
        return t(f"👥 Chưa có thành viên nào ở {where}. Mời người tham gia: /moi")
    out: list[str | Rich] = [
        t("👥 ", b("Thành viên"), f" · {where} · {page.total} người · trang {page.page + 1}/{page.pages}")
    ]
    start = page.page * 10
    out += [_member_line(start + n + 1, d) for n, d in enumerate(page.items)]
    out.append("\nBấm tên để xem, đổi vai trò, đổi đơn vị hoặc ngừng hoạt động.")
    return lines(*out)


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
        change = f": {event.old_value} → {event.new_value}"
    who = ""
    if event.actor_member_id is not None:
        who = f" (bởi thành viên #{event.actor_member_id})"
    elif event.actor_user_id is not None:
        who = " (bởi quản trị viên)"
    return f"• {when(event.at)} {label}{change}{who}"


def member_view(view: MemberView, events: Sequence[MemberEvent]) -> Rich:
    m = view.detail.member
    out: list[str | Rich] = [
        t("👤 ", b(m.full_name), f" (#{m.id})"),
        f"Vai trò: {role_label(m.role)}",
        f"Đơn vị: {unit_label(view.unit, m.unit_code)}",
    ]
    if view.detail.title:
        out.append(f"Chức danh: {view.detail.title}")
    out.append("Đã kết nối bot" if m.user_id is not None else "Chưa kết nối bot (mời bằng /moi)")
    if events:
        out.append("Lịch sử:")
        out += [_event_line(e) for e in list(events)[-5:]]
    if view.can_manage:
        out.append(t("\nĐổi đơn vị: ", code(f"/suatv {m.id} MÃ_ĐƠN_VỊ")))
    return lines(*out)


def role_button(role: Role) -> str:
    return f"Đổi thành {role_label(role)}"


def confirm_deactivate(detail: MemberDetail) -> Rich:
    m = detail.member
    return t(
        "Ngừng hoạt động ", b(m.full_name), f" (#{m.id}, {role_label(m.role)})? ",
        "Người này sẽ không ghi nhận được nữa; các bản ghi cũ vẫn giữ nguyên.",
    )


def deactivated(detail: MemberDetail) -> Rich:
    return t(f"Đã ngừng hoạt động {detail.member.full_name} (#{detail.member.id}). Việc này được ghi lại.")


def changed(view: MemberView, events: Sequence[MemberEvent]) -> Rich:
    """A member's card after a change, headed by the confirmation."""
    return t("✅ Đã cập nhật.\n", member_view(view, events))


EDIT_USAGE = t(
    "Cách dùng: ", code("/suatv SỐ VAI_TRÒ"), " hoặc ", code("/suatv SỐ MÃ_ĐƠN_VỊ"), ", ví dụ ",
    code("/suatv 12 totruong"), ", ", code("/suatv 12 CL07"), ". Số thành viên xem ở /thanhvien.",
)
REMOVE_USAGE = t("Cách dùng: ", code("/xoatv SỐ"), " (số thành viên xem ở /thanhvien).")
STALE_BUTTON = "Nút này không còn dùng được. Bạn gõ lại lệnh nhé."

# ---- coverage --------------------------------------------------------------------------------

MEASURE_LABELS = {"bhyt": "BHYT", "bhxh": "BHXH", "bhxh_tn": "BHXH TN", "bhtn": "BHTN"}


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


def coverage(unit: Unit, rows: Sequence[CoverageRow]) -> Rich:
    if not rows:
        return t(f"Chưa có số liệu bao phủ của {unit_label(unit)}.")
    top = rows[0]
    out: list[str | Rich] = [t("📊 ", b(f"Bao phủ · {top.name}"))]
    for measure in (Measure.BHYT, Measure.BHXH, Measure.BHXH_TN, Measure.BHTN):
        f = top[measure]
        if f.has_baseline or f.target is not None:
            out.append(_figure_line(MEASURE_LABELS[measure.value], f))
    kids = [r for r in rows if r.parent_code == top.code]
    if kids:
        out.append("\nBHYT theo đơn vị (tỷ lệ · % chỉ tiêu · còn phải vận động):")
        ordered = sorted(kids, key=lambda r: (r.bhyt.coverage is None, r.bhyt.coverage or 0))
        for row in ordered[:MAX_LIST_LINES]:
            f = row.bhyt
            if f.has_baseline:
                out.append(
                    f"• {row.name}: {format_coverage_pct(f.coverage)} · {format_coverage_pct(f.of_target)}"
                    f" · {format_remaining(f.remaining)}"
                )
            elif f.target is not None:
                out.append(f"• {row.name}: kế hoạch {format_coverage_pct(f.target)} (chưa có số liệu nền)")
            else:
                out.append(f"• {row.name}: chưa có số liệu")
        if len(kids) > MAX_LIST_LINES:
            out.append(f"… và {len(kids) - MAX_LIST_LINES} đơn vị khác.")
    out.append("\nSố trong ngoặc: đã vượt chỉ tiêu. Số liệu = số liệu nền + người tham gia mới ghi nhận qua bot.")
    return lines(*out)


__all__ = [
    "ASK_ROLE", "BAD_INVITE_LINE", "CITIZEN_REFUSAL", "EDIT_USAGE", "INVALID_CODE", "INVITE_USAGE",
    "JOIN_USAGE", "ORG_COMMANDS", "REMOVE_USAGE", "ROLE_FROM_SHORT", "ROLE_SHORT", "ROLE_WORDS",
    "STALE_BUTTON", "ask_person", "ask_role", "ask_team", "ask_unit", "changed", "commands_for",
    "confirm_deactivate", "coverage", "deactivated", "invite_created", "joined", "member_view",
    "members_page", "my_role", "refusal", "role_button", "role_label", "unit_command_usage",
    "unit_label", "units_view", "when",
]
