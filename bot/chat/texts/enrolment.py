"""Vietnamese texts of the agents' side: logging, withdrawing, voiding, tallies, the monthly form.

Rich text (bot.chat.rich): names, reasons and unit names from imports are literal text by
construction, whatever they contain. Participants' codes appear in full only to the agent who
typed them; leaderboards carry no codes or phones at all, and agents of other units are masked.
Button labels and the menu entries stay plain strings.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime

from bot.chat.rich import Rich, b, i, lines, t
from bot.chat.texts import cost as cost_texts
from bot.chat.texts.cost import BHXH_GROUP_SHORT, BHYT_GROUP_SHORT, day
from bot.domain.coverage import Figure, format_coverage_pct
from bot.domain.engine import Refused
from bot.domain.enrolment import EnrolmentDraft, InputError, Priced, Scheme, Step
from bot.domain.money import format_pct, format_vnd
from bot.domain.privacy import mask_name
from bot.domain.rates import RatesInForce
from bot.domain.records import Enrolment
from bot.services.enrolment import DuplicateEntry
from bot.services.tallies import (
    AgentTally,
    CompetitionRow,
    MyResults,
    Period,
    SchemeCounts,
    SchemeTarget,
    TeamResults,
    UnitTally,
)

# (command, description) for the Telegram menu; bot/chat/commands.py picks them per role.
AGENT_COMMANDS: list[tuple[str, str]] = [
    ("ghi", "Ghi người tham gia mới (BHYT, BHXH tự nguyện)"),
    ("huy", "Huỷ bản ghi vừa ghi nhầm (trong 24 giờ)"),
    ("toi", "Kết quả vận động của tôi"),
    ("nhom", "Kết quả của tổ tôi tháng này"),
    ("bangxephang", "Bảng xếp hạng đơn vị và người vận động"),
    ("thidua", "Thi đua vận động người thân (cán bộ, công chức)"),
    ("xuat", "Xuất báo cáo tháng (Phụ lục 02), ví dụ /xuat 11/2026"),
    ("huyghi", "Cán bộ huỷ một bản ghi: /huyghi SỐ lý do"),
]

SCHEME_LABELS = {
    Scheme.BHYT_HOUSEHOLD: "BHYT hộ gia đình",
    Scheme.BHYT_SUPPORTED: "BHYT được hỗ trợ",
    Scheme.BHXH_VOLUNTARY: "BHXH tự nguyện",
}
SCHEME_SHORT = {"bhyt_household": "BHYT", "bhyt_supported": "BHYT", "bhxh_voluntary": "BHXH tự nguyện"}

BUTTON_CONFIRM = "✅ Xác nhận"
BUTTON_EDIT = "✏️ Sửa"
BUTTON_CANCEL = "✖️ Huỷ"
BUTTON_RELATIVE_YES = "Người thân của tôi"
BUTTON_RELATIVE_NO = "Không phải người thân"
BUTTON_WITHDRAW = "Huỷ bản ghi này"
BUTTON_KEEP = "Không, giữ lại"
EDIT_LABELS: dict[Step, str] = {
    Step.SCHEME: "Loại",
    Step.NAME: "Họ tên",
    Step.CODE: "Mã số",
    Step.MONTHS: "Thời hạn",
    Step.POSITION: "Người thứ mấy",
    Step.GROUP: "Nhóm hỗ trợ",
    Step.INCOME: "Thu nhập",
    Step.RELATIVE: "Người thân",
    Step.REASON: "Số tiền đã thu",
}

ALL_UNITS = "Tất cả đơn vị"  # the scope name of an admin without a unit


def position_label(n: int, last: bool) -> str:
    """The household-position button: "Người thứ 2", and "Người thứ 5 trở đi" for the last."""
    return f"Người thứ {n}" + (" trở đi" if last else "")


NOT_MEMBER = t(
    "Lệnh này dành cho người vận động, tổ trưởng và cán bộ đã tham gia đơn vị trên bot. "
    "Nếu bạn được mời, gõ ",
    b("/thamgia MÃ"),
    " với mã được cấp.\nBạn vẫn có thể tính tiền đóng BHYT, BHXH tự nguyện: gõ /start.",
)
ADMIN_NOT_MEMBER = t(
    "Tài khoản quản trị chưa gắn với đơn vị nào nên chưa ghi được người tham gia. "
    "Hãy tự mời mình vào một đơn vị (/moi) rồi /thamgia."
)
CANCELLED = t("Đã huỷ, không ghi gì. Gõ /ghi để ghi người khác.")
EXPIRED_BUTTON = t("Nút này thuộc một lần ghi đã xong hoặc đã huỷ. Gõ /ghi để ghi mới.")
# Also shown as a pop-up over the pressed button (plain strings, at most 200 characters).
INVALID_BUTTON = "Nút không hợp lệ. Bạn chọn lại bằng các nút của câu hỏi mới nhất nhé."
STALE_BUTTON = "Nút này thuộc một câu hỏi trước. Bạn trả lời câu hỏi mới nhất nhé."
NON_TEXT_IN_FLOW = t("Bot chỉ đọc được chữ. Bạn trả lời bằng chữ hoặc bấm nút nhé.")
PRESS_A_BUTTON = t("Bạn bấm ", b("Xác nhận"), ", ", b("Sửa"), " hoặc ", b("Huỷ"), " ở tin nhắn trên nhé.")
DRAFT_DROPPED = t("Đã bỏ bản nháp đang ghi. (Muốn huỷ bản ghi vừa lưu? Gõ /huy lần nữa.)")
# The /ghi draft is dropped because the agent moved on to something else (a cost question, a
# greeting, /start, /bhyt): say so before answering that.
DRAFT_LEFT = t(
    "ℹ️ Đã dừng lần ghi người tham gia đang dở, chưa lưu gì. "
    "Khi cần ghi tiếp, gõ /ghi (hoặc /ghi kèm cả dòng, ví dụ ",
    i("/ghi bhyt Nguyễn Văn An 8423001234 12 tháng"),
    ").",
)


def draft_expired(minutes: int) -> Rich:
    """The /ghi draft was left unanswered for `minutes` and has been dropped."""
    return t(
        f"⌛ Lần ghi người tham gia đang dở đã quá {minutes} phút không có trả lời nên bot đã bỏ, "
        "chưa lưu gì. Gõ /ghi để ghi lại từ đầu."
    )


def error_text(problem: InputError) -> Rich:
    """What was wrong with a typed answer, and how to type it."""
    details = dict(problem.details)
    limit = details.get("limit")
    key = problem.key
    if key == "name_empty":
        return t("Bạn chưa nhập họ tên. Gõ họ và tên đầy đủ, ví dụ ", i("Nguyễn Văn An"), ".")
    if key == "name_long":
        return t(f"Họ tên dài quá (tối đa {limit} ký tự). Gõ lại họ và tên người tham gia.")
    if key == "name_chars":
        return t("Họ tên chỉ gồm chữ cái (có dấu hoặc không), không có số hay biểu tượng. Gõ lại nhé.")
    if key == "name_short":
        return t("Cần họ và tên đầy đủ (ít nhất 2 chữ), ví dụ ", i("Nguyễn Văn An"), ".")
    if key == "code_empty":
        return t("Bạn chưa nhập mã. Gõ mã số BHXH (10 chữ số) hoặc số CCCD (12 chữ số).")
    if key == "code_chars":
        return t("Mã chỉ gồm chữ số: mã số BHXH có 10 chữ số, CCCD có 12 chữ số. Gõ lại nhé.")
    if key == "code_length":
        return t(
            f"Mã bạn gõ có {details.get('length')} chữ số. Mã số BHXH có ", b("10"),
            " chữ số, CCCD có ", b("12"), " chữ số. Gõ lại mã nhé.",
        )
    if key == "months_unclear":
        return t("Bạn chọn thời hạn bằng nút bên dưới, hoặc gõ ví dụ ", i("12 tháng"), ".")
    if key == "months_not_allowed":
        allowed = details.get("allowed")
        shown = ", ".join(str(m) for m in allowed) if isinstance(allowed, list | tuple) else str(allowed)
        return t(f"Chỉ đóng được theo các kỳ {shown} tháng. Bạn chọn lại nhé.")
    if key == "position_unclear":
        return t("Bạn chọn người thứ mấy trong hộ bằng nút, hoặc gõ một số, ví dụ ", i("2"), ".")
    if key == "position_range":
        return t(f"Người thứ mấy trong hộ: từ 1 đến {limit}.")
    if key == "income_unclear":
        return t("Mức thu nhập chưa đúng. Gõ số tiền, ví dụ ", i("2tr"), " hoặc ", i("1.500.000"), ".")
    if key == "amount_unclear":
        return t(
            "Số tiền chưa đúng: chỉ gõ số, ví dụ ", i("1.366.200"), ", ", i("1tr366"), " hoặc ", i("800k"), "."
        )
    if key == "reason_short":
        return t("Bạn ghi rõ lý do thu khác mức tính (ít nhất vài chữ) nhé.")
    if key == "reason_long":
        return t(f"Lý do dài quá (tối đa {limit} ký tự). Bạn ghi ngắn lại nhé.")
    if key == "too_long":
        return t(f"Tin nhắn dài quá (tối đa {limit} ký tự). Bạn gõ ngắn lại nhé.")
    if key == "incomplete":
        return t("Bản ghi còn thiếu thông tin. Gõ /ghi để ghi lại từ đầu.")
    if key == "group_unclear":
        return t("Bạn chọn nhóm bằng các nút bên dưới nhé.")
    if key == "choose_button":
        return t("Bạn chọn bằng các nút bên dưới nhé.")
    return t("Thông tin chưa đúng. Bạn gõ lại nhé.")


def refusal(refused: Refused) -> Rich:
    """Why the engine refused the draft, in the citizen calculator's words.

    `bot.chat.texts.cost.refusal_text` may still be Telegram HTML (bold only, no user text):
    read back into rich text until that module is rich itself."""
    text: object = cost_texts.refusal_text(refused)
    if isinstance(text, Rich):
        return text
    return _from_simple_html(str(text))


def _from_simple_html(markup: str) -> Rich:
    """Rich text from HTML that holds only <b>, <i> and the three escapes (no user text)."""
    parts: list[Rich] = []
    bold = italic = False
    for piece in re.split(r"(</?[bi]>)", markup):
        if piece in ("<b>", "</b>"):
            bold = piece == "<b>"
        elif piece in ("<i>", "</i>"):
            italic = piece == "<i>"
        elif piece:
            text = piece.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
            run = b(text) if bold else t(text)
            parts.append(i(run) if italic else run)
    return t(*parts)


def _months_label(scheme: Scheme | str | None, months: int) -> str:
    if scheme in (Scheme.BHXH_VOLUNTARY, "bhxh_voluntary") and months == 1:
        return "hằng tháng"
    return f"{months} tháng"


def group_label(scheme: Scheme | None, group: str | None) -> str:
    if group is None:
        return ""
    table = BHXH_GROUP_SHORT if scheme == Scheme.BHXH_VOLUNTARY else BHYT_GROUP_SHORT
    return table.get(group, group)


# --- the guided flow -------------------------------------------------------------------------


def draft_summary(draft: EnrolmentDraft) -> str:
    """One line of what is known so far, so each question keeps its context."""
    parts: list[str] = []
    if draft.scheme:
        parts.append(SCHEME_LABELS[draft.scheme])
    if draft.name:
        parts.append(draft.name)
    if draft.code:
        parts.append(f"mã {draft.code}")
    if draft.months and draft.scheme:
        parts.append(_months_label(draft.scheme, draft.months))
    return " · ".join(parts)


def ask_text(step: Step, draft: EnrolmentDraft, rates: RatesInForce | None = None) -> Rich:
    head = draft_summary(draft)
    prefix = t(i(head), "\n") if head else t()
    name = draft.name or "người tham gia"
    if step == Step.SCHEME:
        return prefix + "Ghi người tham gia mới. Loại nào?"
    if step == Step.NAME:
        return prefix + t("Họ và tên người tham gia? (ví dụ: ", i("Nguyễn Văn An"), ")")
    if step == Step.CODE:
        return prefix + f"Mã số BHXH (10 chữ số) hoặc số CCCD (12 chữ số) của {name}?"
    if step == Step.MONTHS:
        if draft.scheme == Scheme.BHXH_VOLUNTARY:
            return prefix + "Phương thức đóng: hằng tháng hay mấy tháng một lần?"
        return prefix + "Đóng cho bao lâu?"
    if step == Step.POSITION:
        return prefix + (
            f"{name} là người thứ mấy của hộ tham gia trong năm tài chính này? "
            "(người thứ 2, 3, 4 đóng 70%, 60%, 50% mức người thứ nhất; từ người thứ 5: 40%)"
        )
    if step == Step.GROUP:
        if draft.scheme == Scheme.BHXH_VOLUNTARY:
            return prefix + f"{name} thuộc nhóm nào? (để tính mức Nhà nước hỗ trợ)"
        return prefix + f"{name} thuộc nhóm được hỗ trợ nào?"
    if step == Step.INCOME:
        low = format_vnd(rates.min_income) if rates else "chuẩn nghèo"
        high = format_vnd(rates.max_income) if rates else ""
        return prefix + t(f"Mức thu nhập {name} chọn đóng mỗi tháng? (từ {low} đến {high}; ví dụ ", i("2tr"), ")")
    if step == Step.RELATIVE:
        return prefix + f"{name} có phải người thân của bạn không? (để tính thi đua vận động người thân)"
    return prefix


def reason_question(expected: int, paid: int) -> Rich:
    return t(
        f"Số tiền đã thu {format_vnd(paid)} khác mức tính theo quy định {format_vnd(expected)}. "
        "Lý do? (ví dụ: ", i("xã hỗ trợ thêm"), ")",
    )


def ask_amount_paid(expected: int) -> Rich:
    return t(
        f"Mức tính theo quy định: {format_vnd(expected)}. Số tiền thực thu là bao nhiêu? (gõ số, ví dụ ",
        i("1.300.000"), ")",
    )


def confirm_text(draft: EnrolmentDraft, priced: Priced) -> Rich:
    """CONVERSATIONS.md: 'Kiểm tra lại trước khi ghi:' and one line with every fact."""
    assert draft.scheme is not None and draft.months is not None
    parts = [SCHEME_LABELS[draft.scheme], draft.name or "", f"mã {draft.code or ''}"]
    parts.append(_months_label(draft.scheme, draft.months))
    amount = format_vnd(priced.expected)
    if draft.scheme == Scheme.BHYT_HOUSEHOLD:
        amount += f" (người thứ {draft.position or 1})"
    elif draft.scheme == Scheme.BHYT_SUPPORTED:
        amount += f" ({group_label(draft.scheme, draft.group)})"
        if priced.cofunded:
            amount += ", có hỗ trợ của chiến dịch"
    else:
        parts.append(f"thu nhập {format_vnd(draft.income or 0)}")
        amount += f" ({group_label(draft.scheme, draft.group)})"
    parts.append(amount)
    out = ["Kiểm tra lại trước khi ghi:", " · ".join(parts)]
    if draft.amount_paid is not None and draft.amount_paid != priced.expected:
        out.append(f"Thực thu: {format_vnd(draft.amount_paid)} · lý do: {draft.reason or ''}")
    out.append("Người thân của bạn: " + ("có" if draft.is_relative else "không"))
    return lines(*out)


EDIT_QUESTION = t("Bạn muốn sửa mục nào?")


def entry_summary(entry: Enrolment) -> str:
    """BHYT hộ gia đình · Nguyễn Văn An · mã 8423001234 · 12 tháng · 1.366.200 đ"""
    scheme = SCHEME_LABELS.get(Scheme(entry.scheme), entry.scheme)
    return " · ".join([
        scheme,
        entry.participant_name,
        f"mã {entry.participant_code}",
        _months_label(entry.scheme, entry.months),
        format_vnd(entry.amount_paid),
    ])


def logged_text(results: MyResults, entry: Enrolment) -> Rich:
    """'Đã ghi. Tháng 11 bạn đã vận động 7 người (BHYT 6, BHXH tự nguyện 1). Tổ 3 đang thứ 2/5.'

    It replaces the confirmation card, so the chat keeps one line per entry logged.
    """
    c = results.month_counts
    out = [f"Đã ghi (số {entry.id}): {entry_summary(entry)}."]
    tally = (
        f"Tháng {results.month.start.month} bạn đã vận động {c.total} người "
        f"(BHYT {c.bhyt}, BHXH tự nguyện {c.bhxh})."
    )
    if results.team is not None and results.teams_in_race:
        tally += f" {results.team.name} đang thứ {results.team.rank}/{results.teams_in_race}."
    out.append(tally)
    if entry.period_start != entry.created_on:
        out.append(f"Gia hạn nối tiếp: từ {day(entry.period_start)} đến {day(entry.period_end)}.")
    out.append("Ghi nhầm? /huy trong 24 giờ.")
    return lines(*out)


DUPLICATE_ELSEWHERE = t(
    "Mã này đã được ghi nhận trước đó, không ghi lại để tránh tính trùng. "
    "Nếu bạn nghĩ có nhầm lẫn, hãy báo cán bộ phụ trách."
)


def duplicate_text(dup: DuplicateEntry) -> Rich:
    """CONVERSATIONS.md "A duplicate": when, where, until when; the other agent masked.

    An entry of a unit outside the sender's scope gets the neutral `DUPLICATE_ELSEWHERE`:
    no date, unit or agent of another area."""
    if not dup.in_scope or dup.logged_on is None or dup.period_end is None:
        return DUPLICATE_ELSEWHERE
    scheme = "BHXH tự nguyện" if dup.scheme == "bhxh_voluntary" else "BHYT"
    until = "thẻ đến" if scheme == "BHYT" else "đã đóng đến"
    who = "chính bạn" if dup.by_self else (dup.agent_masked or "người vận động khác")
    return t(
        f"Mã {dup.code} đã được ghi {scheme} ngày {day(dup.logged_on)} tại "
        f"{dup.unit_name} (người ghi: {who}), {until} {day(dup.period_end)}. "
        "Không ghi lại để số liệu không bị tính trùng."
    )


# --- withdrawing and voiding -------------------------------------------------------------------


def entry_line(entry: Enrolment, show_code: bool = True) -> str:
    parts = [
        f"số {entry.id}",
        SCHEME_SHORT.get(entry.scheme, entry.scheme),
        entry.participant_name,
    ]
    if show_code and entry.participant_code:
        parts.append(f"mã {entry.participant_code}")
    parts.append(_months_label(entry.scheme, entry.months))
    parts.append(format_vnd(entry.amount_paid))
    parts.append(f"ghi lúc {entry.created_at.strftime('%H:%M %d/%m/%Y')}")
    return " · ".join(parts)


NOTHING_TO_WITHDRAW = t(
    "Bạn không có bản ghi nào trong 24 giờ qua để huỷ. "
    "Ghi nhầm từ trước đó thì nhờ cán bộ phụ trách huỷ giúp."
)


def withdraw_question(entry: Enrolment) -> Rich:
    return lines("Huỷ bản ghi gần nhất của bạn?", entry_line(entry))


def withdrawn_text(entry: Enrolment, counts: SchemeCounts, month: int) -> Rich:
    return t(
        f"Đã huỷ bản ghi số {entry.id} ({entry.participant_name}). "
        f"Tháng {month} bạn còn {counts.total} người (BHYT {counts.bhyt}, BHXH tự nguyện {counts.bhxh})."
    )


WITHDRAW_TOO_LATE = t(
    "Không huỷ được: bản ghi này đã quá 24 giờ, đã được huỷ, hoặc không phải của bạn. "
    "Nhờ cán bộ phụ trách nếu cần."
)
WITHDRAW_KEPT = t("Đã giữ nguyên bản ghi.")

VOID_USAGE = t(
    "Cách dùng: ", b("/huyghi SỐ lý do"), ", ví dụ ", i("/huyghi 125 ghi trùng người đã có thẻ"), ". "
    "Số bản ghi có trong báo cáo tháng (/xuat) và tin xác nhận của người ghi."
)
_VOID_TEXTS = {
    "void_role": "Chỉ cán bộ phụ trách đơn vị mới huỷ được bản ghi của người khác. Bạn tự huỷ bản ghi của mình bằng /huy trong 24 giờ.",
    "void_not_found": "Không tìm thấy bản ghi số {id} trong phạm vi đơn vị của bạn.",
    "void_not_active": "Bản ghi số {id} đã được huỷ trước đó; không có gì thay đổi.",
}


def void_refused(key: str, entry_id: int) -> Rich:
    """Why /huyghi changed nothing (`bot.services.enrolment.NotAllowed.key`)."""
    return t(_VOID_TEXTS.get(key, _VOID_TEXTS["void_not_found"]).format(id=entry_id))


def voided_text(entry: Enrolment, unit_name: str, reason: str) -> Rich:
    return t(
        f"Đã huỷ bản ghi số {entry.id} ({SCHEME_SHORT.get(entry.scheme, entry.scheme)} · "
        f"{entry.participant_name} · {unit_name}). Lý do: {reason}. "
        "Số liệu đã được cập nhật; bản ghi vẫn được lưu để đối chiếu."
    )


# --- tallies ---------------------------------------------------------------------------------


def _counts(c: SchemeCounts) -> str:
    return f"{c.total} người (BHYT {c.bhyt}, BHXH tự nguyện {c.bhxh})"


def _target_gap(target: SchemeTarget, c: SchemeCounts) -> str:
    missing = []
    if c.bhyt < target.bhyt:
        missing.append(f"{target.bhyt - c.bhyt} BHYT")
    if c.bhxh < target.bhxh:
        missing.append(f"{target.bhxh - c.bhxh} BHXH tự nguyện")
    return "✅ đã đạt" if not missing else "còn thiếu " + ", ".join(missing)


def my_results_text(r: MyResults, unit_name: str) -> Rich:
    out: list[str | Rich] = [
        t(b(f"Kết quả của bạn · {r.month.label}"), f" · {unit_name}"),
        f"Đã vận động {_counts(r.month_counts)}.",
        f"Mục tiêu tháng (ít nhất {r.target.bhyt} BHYT và {r.target.bhxh} BHXH tự nguyện): "
        + _target_gap(r.target, r.month_counts) + ".",
        f"Hôm nay: {r.today_counts.total} người.",
    ]
    if r.campaign is not None and r.campaign_counts is not None:
        out.append(f"Chiến dịch {r.campaign.label} (từ {day(r.campaign.start)}): {_counts(r.campaign_counts)}.")
    if r.team is not None and r.teams_in_race:
        out.append(
            f"{r.team.name}: thứ {r.team.rank}/{r.teams_in_race}, cả tổ {r.team.counts.total} người. Xem /nhom."
        )
    out.append("Ghi thêm: /ghi · Bảng xếp hạng: /bangxephang")
    return lines(*out)


NO_TEAM = t(
    "Tháng này bạn chưa có tên trong tổ nào. Tổ trưởng hoặc cán bộ phụ trách xếp tổ theo danh sách hằng tháng."
)


def team_results_text(r: TeamResults) -> Rich:
    out: list[str | Rich] = [
        t(b(f"{r.team.name} · {r.month.label}"), f" · thứ {r.team.rank}/{r.teams_in_race}"),
    ]
    for m in r.members:
        leader = " (tổ trưởng)" if m.is_leader else ""
        status = "✅" if m.met else _target_gap(SchemeTarget(1, 1), m.counts)
        out.append(f"• {m.member.full_name}{leader}: BHYT {m.counts.bhyt}, BHXH TN {m.counts.bhxh} · {status}")
    target = r.target
    out.append(f"Cả tổ: {_counts(r.team.counts)} · mục tiêu {target.bhyt} BHYT + {target.bhxh} BHXH tự nguyện.")
    return lines(*out)


def agent_label(agent: AgentTally, viewer_unit: str | None, reveal_all: bool = False) -> str:
    """Agents of the viewer's own unit by full name; others masked, with their unit."""
    if reveal_all or (viewer_unit is not None and agent.unit_code == viewer_unit):
        return agent.name
    return f"{mask_name(agent.name)} ({agent.unit_name})"


def leaderboard_text(
    scope_name: str,
    period: Period,
    units: list[UnitTally],
    agents: list[AgentTally],
    viewer_unit: str | None,
    reveal_all: bool = False,
    coverage: Mapping[str, Figure] | None = None,
) -> Rich:
    """Units by new participants this period (with BHYT coverage against target, seed 003,
    where figures were imported) and the top agents. No participant codes or phones."""
    coverage = coverage or {}
    out: list[str | Rich] = [b(f"Bảng xếp hạng · {period.label} · {scope_name}")]
    if len(units) > 1:
        out.append(b("Đơn vị"))
        for rank, u in enumerate(units[:10], start=1):
            target = ""
            if u.target is not None and (u.target.bhyt or u.target.bhxh):
                target = f" / chỉ tiêu {u.target.bhyt + u.target.bhxh}"
            out.append(
                f"{rank}. {u.name}: {u.total.total}{target} (BHYT {u.total.bhyt}, BHXH TN {u.total.bhxh})"
                + _coverage_note(coverage.get(u.code))
            )
        if len(units) > 10:
            out.append(f"… và {len(units) - 10} đơn vị khác")
    out.append(b("Người vận động"))
    if not agents:
        out.append("Chưa có ai ghi trong kỳ này. Hãy là người đầu tiên: /ghi")
    for rank, a in enumerate(agents, start=1):
        out.append(f"{rank}. {agent_label(a, viewer_unit, reveal_all)}: {a.counts.total}")
    return lines(*out)


def _coverage_note(figure: Figure | None) -> str:
    if figure is None or figure.coverage is None:
        return ""
    target = f"/{format_pct(figure.target)}" if figure.target is not None else ""
    return f" · bao phủ BHYT {format_coverage_pct(figure.coverage)}{target}"


def competition_text(scope_name: str, period: Period, rows: list[CompetitionRow]) -> Rich:
    out: list[str | Rich] = [
        t(b(f"Thi đua vận động người thân · {period.label}"), f" · {scope_name}"),
        f"Từ {day(period.start)} đến {day(period.end)}. Chỉ tiêu: 100% cán bộ có người thân tham gia BHYT, "
        "50% có người thân tham gia BHXH tự nguyện.",
    ]
    if not rows:
        out.append("Chưa có đơn vị nào có số cán bộ hoặc người thân được ghi.")
    for r in rows[:15]:
        staff = f"{r.staff}" if r.staff else "?"
        bhyt = format_pct(r.bhyt_share, 1) if r.bhyt_share is not None else "—"
        bhxh = format_pct(r.bhxh_share, 1) if r.bhxh_share is not None else "—"
        out.append(
            f"• {r.name} ({staff} CB): BHYT {r.with_bhyt} = {bhyt} {'✅' if r.bhyt_met else '⏳'} · "
            f"BHXH TN {r.with_bhxh} = {bhxh} {'✅' if r.bhxh_met else '⏳'}"
        )
    if len(rows) > 15:
        out.append(f"… và {len(rows) - 15} đơn vị khác")
    return lines(*out)


# --- the monthly form ----------------------------------------------------------------------------

EXPORT_USAGE = t("Cách dùng: ", b("/xuat MM/YYYY"), ", ví dụ ", i("/xuat 11/2026"), " (mặc định: tháng này).")
_EXPORT_TEXTS = {
    "export_role": "Báo cáo tháng dành cho tổ trưởng và cán bộ phụ trách.",
    "export_no_team": "Tháng {month} bạn không có tổ nào trong danh sách, nên chưa có báo cáo tổ.",
    "unit_not_found": "Không tìm thấy đơn vị này trong phạm vi của bạn.",
}
UNIT_NOT_FOUND = t(_EXPORT_TEXTS["unit_not_found"])


def export_refused(key: str, month: date) -> Rich:
    """Why /xuat sent no file (`bot.services.enrolment.NotAllowed.key`)."""
    template = _EXPORT_TEXTS.get(key, _EXPORT_TEXTS["export_role"])
    return t(template.format(month=f"{month.month:02d}/{month.year}"))


def export_caption(month: date, scope_label: str, count: int, masked: bool) -> Rich:
    note = " Mã số đã được che một phần." if masked else ""
    return t(f"Phụ lục 02 · tháng {month.month:02d}/{month.year} · {scope_label}: {count} người tham gia.{note}")


def export_empty(month: date, scope_label: str) -> Rich:
    return t(f"Tháng {month.month:02d}/{month.year} chưa có bản ghi nào cho {scope_label}.")


def at_time(moment: datetime) -> str:
    return moment.strftime("%H:%M %d/%m/%Y")
