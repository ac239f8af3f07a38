"""Vietnamese texts of the lapsed-card feature: linking, /hethan, reminders, /danhsach, imports.

Replies are `Rich` values (bot.chat.rich): names, addresses and values that came from a list or
a person are literal text by construction, so nothing here escapes anything. Texts without any
style stay plain `str` (flows wrap them with `t`). Buttons are `bot.chat.model.Button` rows so
that the reminder sender and the flow build the same keyboards; payloads stay far below
Telegram's 64 bytes and carry no personal data (the person pressing is who it applies to).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date

from bot.chat.layout import utf16_len
from bot.chat.model import Button, Rows
from bot.chat.rich import Rich, b, code, i, join, lines, paragraphs, t
from bot.chat.texts.common import LAYOUT_TEXTS
from bot.chat.texts.cost import BHYT_GROUP_SHORT, PAY_WHERE
from bot.domain.cards import GAP_MONTHS, WAITING_DAYS, CardState, CardStatus, HouseholdCost
from bot.domain.money import format_pct, format_vnd
from bot.domain.privacy import mask_code, mask_phone
from bot.domain.records import ReminderCounts, ReminderStats, UnknownZns
from bot.domain.reminders import Cadence, Hours
from bot.imports.cards import (
    CHAT_MAX_ROWS,
    MAX_ROWS,
    Column,
    FileProblem,
    ImportCounts,
    ParsedList,
    Problem,
    RowProblem,
    Severity,
)
from bot.reports.xlsx_safe import safe_cell_value
from bot.services.cards import CardView, DoorList, HouseholdView, ImportResult, MyCards, PayInfo, ReminderContent

Buttons = Rows  # the keyboards below: rows of neutral buttons

# (command, description) for the Telegram menu; bot/chat/commands.py picks them per role.
COMMANDS: list[tuple[str, str]] = [
    ("hethan", "Xem hạn thẻ BHYT của gia đình và tiền gia hạn"),
    ("nhac", "Bật nhắc gia hạn thẻ BHYT"),
    ("dunglai", "Dừng nhắc gia hạn thẻ BHYT"),
    ("danhsach", "Danh sách người hết hạn thẻ chưa gia hạn (người thu, cán bộ)"),
]

MAX_MESSAGE = 4000  # visible UTF-16 units of one reply; Telegram allows 4096

# The label of the phone-sharing button the adapters show (one string, named in the texts).
CONTACT_BUTTON = LAYOUT_TEXTS.share_phone
BUTTON_COST = "Tính chi phí khác"
BUTTON_RENEWED = "Tôi đã gia hạn"
BUTTON_STOP = "Không nhận nhắc nữa"
BUTTON_RESUME = "Nhận nhắc lại"
BUTTON_UNDO = "Tôi bấm nhầm"

CB_COST = "rc:cost"
CB_RENEWED = "rc:done"
CB_STOP = "rc:stop"
CB_RESUME = "rc:on"
CB_UNDO = "rc:undo"
CB_MONTHS = "rc:m:"  # + 3 / 6 / 12
CB_CARDS = "rc:cards"  # "Thẻ của tôi" from other flows: the same as /hethan
MONTH_CHOICES = (3, 6, 12)

ASK_CONTACT = t(
    "Để xem hạn thẻ BHYT của gia đình và nhận nhắc khi thẻ hết hạn, bạn bấm nút ",
    b(CONTACT_BUTTON),
    " ở dưới khung chat.\n"
    "Bot chỉ dùng số này để tìm thẻ của gia đình trong danh sách BHXH gửi về xã. "
    "Bot không bao giờ hỏi mật khẩu, mã OTP, ảnh thẻ hay số tài khoản.",
)
NOT_OWN_CONTACT = t(
    "Bot chỉ nhận ",
    b("số điện thoại của chính bạn"),
    ", gửi bằng nút ",
    b(CONTACT_BUTTON),
    ". Số của người khác (chuyển tiếp hoặc nhập tay) không dùng để "
    "liên kết thẻ được. Chưa có gì thay đổi.",
)
BAD_PHONE = "Số điện thoại này không phải số Việt Nam nên bot không tìm được thẻ. Chưa có gì thay đổi."
NOT_LINKED = t("Bạn chưa liên kết thẻ BHYT nào. ", ASK_CONTACT)
NOTHING_TO_CLAIM = "Trong các thẻ đã liên kết không có thẻ nào cần gia hạn. Gõ /hethan để xem lại."
CLAIM_UNDONE = "Đã bỏ báo gia hạn. Bot sẽ nhắc lại như trước. Gõ /hethan để xem thẻ."
NOTHING_TO_UNDO = "Không có báo gia hạn nào đang chờ xác nhận."
STOPPED = "Đã dừng nhắc gia hạn thẻ BHYT. Muốn nhận lại, gõ /nhac."
ALREADY_STOPPED = "Bạn đã dừng nhắc từ trước. Muốn nhận lại, gõ /nhac."
BUTTON_EXPIRED = "Nút này không còn dùng được. Gõ /hethan để xem thẻ."
STAFF_ONLY = "Lệnh /danhsach dành cho người thu, tổ trưởng và cán bộ phụ trách."
IMPORT_STAFF_ONLY = (
    "Chỉ cán bộ phụ trách hoặc quản trị mới gửi được danh sách thẻ cho bot. "
    "Bot không cần ảnh hay giấy tờ của bạn."
)
IMPORT_WORKING = "Đang đọc danh sách..."
YOU = "bạn"  # how a person pressing "Tôi đã gia hạn" is thanked
ALL_UNITS = "tất cả đơn vị"  # the /danhsach scope of someone over every unit (an admin)

COLUMN_LABELS = {
    Column.HOUSEHOLD: "Mã hộ gia đình",
    Column.NAME: "Họ và tên",
    Column.BHXH_CODE: "Mã số BHXH",
    Column.CARD_CODE: "Mã thẻ BHYT",
    Column.BIRTH: "Ngày sinh",
    Column.SEX: "Giới tính",
    Column.PHONE: "Số điện thoại",
    Column.ADDRESS: "Địa chỉ",
    Column.UNIT: "Mã đơn vị",
    Column.VALID_FROM: "Hạn thẻ từ",
    Column.VALID_TO: "Hạn thẻ đến",
}


def day(d: date) -> str:
    return d.strftime("%d/%m/%Y")


def _clip(text: Rich, limit: int = MAX_MESSAGE) -> Rich:
    """`text` cut at its last line break that fits `limit` visible UTF-16 units, ending in "…",
    so that a long reply stays one message (styles kept)."""
    plain = text.plain
    if utf16_len(plain) <= limit:
        return text
    end = used = 0
    for ch in plain:
        used += utf16_len(ch)
        if used > limit - 2:
            break
        end += 1
    cut = plain.rfind("\n", 0, end)
    return text.slice(0, cut if cut > 0 else end) + "\n…"


# --------------------------------------------------------------------------- keyboards


def reminder_buttons(opted_out: bool = False) -> Buttons:
    """Another cost, "I renewed", and stop (or resume, once stopped) reminders."""
    last = Button(BUTTON_RESUME, payload=CB_RESUME) if opted_out else Button(BUTTON_STOP, payload=CB_STOP)
    return ((Button(BUTTON_COST, payload=CB_COST), Button(BUTTON_RENEWED, payload=CB_RENEWED)), (last,))


def months_buttons() -> Buttons:
    return (tuple(Button(f"{m} tháng", payload=f"{CB_MONTHS}{m}") for m in MONTH_CHOICES),)


def undo_buttons() -> Buttons:
    return ((Button(BUTTON_UNDO, payload=CB_UNDO),),)


# --------------------------------------------------------------------------- card status


def status_text(status: CardStatus) -> str:
    if status.state is CardState.LAPSED:
        return f"hết hạn ngày {day(status.valid_to)} (đã quá {status.lapsed_days} ngày)"
    if status.state is CardState.EXPIRING:
        left = "hôm nay là ngày cuối" if status.days_left == 0 else f"còn {status.days_left} ngày"
        return f"sắp hết hạn: {day(status.valid_to)} ({left})"
    return f"còn hạn đến {day(status.valid_to)}"


def _card_line(view: CardView) -> str:
    card = view.card
    if view.renewed:
        state = "đã gia hạn (người thu đã ghi)"
    elif view.claimed:
        state = "bạn báo đã gia hạn, chờ người thu xác nhận"
    else:
        state = status_text(view.status)
    return f"• {card.full_name} ({mask_code(card.bhxh_code)}): {state}"


def consequence_text(status: CardStatus) -> str:
    """What waiting costs (DOMAIN.md §3.5), for the card that lapsed first."""
    if status.state is CardState.EXPIRING:
        return (
            f"Gia hạn trước ngày {day(status.valid_to)} để thẻ được nối tiếp, không bị gián đoạn."
        )
    if status.state is CardState.VALID:
        return ""
    if status.long_gap:
        return (
            f"Thẻ đã gián đoạn từ {GAP_MONTHS} tháng trở lên: thẻ mới chỉ có giá trị sau "
            f"{WAITING_DAYS} ngày kể từ ngày đóng (đóng hôm nay thì có giá trị từ "
            f"{day(status.effective_if_paid)}), và thời gian tham gia 5 năm liên tục bị tính lại."
        )
    return (
        f"Gia hạn trước ngày {day(status.continuity_deadline)} (chưa gián đoạn đủ {GAP_MONTHS} tháng) "
        f"thì không phải chờ {WAITING_DAYS} ngày và giữ được thời gian tham gia 5 năm liên tục. "
        f"Sau ngày đó, thẻ mới chỉ có giá trị sau {WAITING_DAYS} ngày kể từ ngày đóng, "
        "và thời gian 5 năm liên tục bị tính lại."
    )


def cost_text(cost: HouseholdCost, detailed: bool = True) -> Rich:
    """Renewal cost of a household: total, per member when ``detailed``, and legal basis."""
    out: list[str | Rich] = []
    who = f"hộ {cost.members} người" if cost.members > 1 else "1 người"
    out.append(t(f"Gia hạn {cost.months} tháng cho {who}: ", b(format_vnd(cost.total))))
    quote = cost.household
    if detailed and quote is not None:
        shown = quote.lines[:6]
        for line in shown:
            share = "" if line.index == 1 else f" ({format_pct(line.ladder_percent)})"
            out.append(f"- Người thứ {line.index}: {format_vnd(line.amount)}{share}")
        if len(quote.lines) > 6:
            rest = quote.lines[6:]
            out.append(f"- Người thứ 7 trở đi: {format_vnd(rest[0].amount)} × {len(rest)} người")
    if detailed:
        for item in cost.supported[:8]:
            q = item.quote
            label = BHYT_GROUP_SHORT.get(q.group, q.group_label)
            if q.free:
                out.append(f"- {item.full_name} ({label}): thẻ miễn phí, liên hệ UBND xã")
                continue
            extra = " và chiến dịch hỗ trợ thêm" if q.cofunded else ""
            out.append(
                f"- {item.full_name} ({label}, Nhà nước hỗ trợ {format_pct(q.support_percent)}{extra}): "
                f"{format_vnd(q.person_pays)}"
            )
        if len(cost.supported) > 8:
            out.append(f"- và {len(cost.supported) - 8} người được hỗ trợ khác")
    for name in cost.unpriced[:5]:
        out.append(f"- {name}: chưa tính được (nhóm đối tượng không áp dụng ngày này), hỏi người thu")
    basis = _basis(cost)
    if basis:
        out.append(basis)
    return lines(*out)


def _basis(cost: HouseholdCost) -> Rich:
    """The legal basis of the figures, in italics (empty when nothing was priced)."""
    if cost.household is not None:
        q = cost.household
        text = (
            f"Mức đóng {format_pct(q.rate_percent)} lương cơ sở {format_vnd(q.base_salary)} "
            f"({q.base_salary_source}); giảm trừ theo {q.ladder_source}"
        )
    elif cost.supported:
        q2 = cost.supported[0].quote
        text = (
            f"Mức đóng {format_pct(q2.rate_percent)} lương cơ sở {format_vnd(q2.base_salary)} "
            f"({q2.base_salary_source})"
        )
    else:
        return t()
    if cost.supported:
        sources = sorted({item.quote.support_source for item in cost.supported})
        text += f"; hỗ trợ theo {', '.join(sources)}"
    return i(text + f"; tính ngày {day(cost.on)}.")


def my_cards_text(mine: MyCards, opted_out: bool = False) -> Rich:
    """/hethan: every linked card's status and each household's renewal cost."""
    parts: list[str | Rich] = [t(b("Thẻ BHYT của gia đình"), f" · {day(mine.today)}")]
    for household in mine.households[:5]:
        parts.append(_household_block(household))
    if len(mine.households) > 5:
        parts.append(f"(và {len(mine.households) - 5} hộ khác)")
    parts.append(PAY_WHERE)
    if opted_out:
        parts.append("Bạn đang tắt nhắc gia hạn. Gõ /nhac để bật lại.")
    return _clip(join("\n\n", parts))


def _household_block(household: HouseholdView) -> Rich:
    title = f"Hộ {household.code}" if household.code else "Thẻ riêng"
    out: list[str | Rich] = [b(title)]
    for view in household.cards[:15]:
        out.append(_card_line(view))
    if len(household.cards) > 15:
        out.append(f"• và {len(household.cards) - 15} người khác")
    due = household.due
    if due and household.cost is not None:
        first = min(due, key=lambda v: v.card.valid_to)
        consequence = consequence_text(first.status)
        if consequence:
            out.append(consequence)
        out.append(cost_text(household.cost))
    elif not due:
        out.append("Không có thẻ nào cần gia hạn lúc này.")
    return lines(*out)


def linked_text(mine: MyCards, phone: str) -> Rich:
    return t(
        f"✅ Đã liên kết {len(mine.cards)} thẻ BHYT với số {mask_phone(phone)}. "
        "Bot sẽ nhắc khi thẻ của gia đình hết hạn (gõ /dunglai để tắt)."
    )


def no_cards_text(phone: str) -> Rich:
    return t(
        f"Chưa tìm thấy thẻ BHYT nào có số {mask_phone(phone)} trong danh sách thẻ hết hạn bot đang có. "
        "Có thể danh sách chưa ghi số điện thoại của bạn: bạn hỏi người thu BHXH ở xã, "
        "hoặc tính tiền đóng bằng /bhyt. Chưa có gì thay đổi."
    )


def months_cost_text(mine: MyCards) -> Rich:
    """The recomputed cost for the months chosen."""
    blocks = [
        t(b(f"Hộ {h.code}"), "\n", cost_text(h.cost)) if h.code else cost_text(h.cost)
        for h in mine.households
        if h.cost is not None
    ]
    if not blocks:
        return t(NOTHING_TO_CLAIM)
    return _clip(t(join("\n\n", blocks), "\n", PAY_WHERE))


ASK_MONTHS = "Bạn muốn tính gia hạn bao lâu?"


# --------------------------------------------------------------------------- the reminder


def reminder_text(content: ReminderContent) -> Rich:
    """The reminder (CONVERSATIONS.md "A reminder"): greeting, lapse, cost, where to pay."""
    pronoun = content.pronoun
    due = list(content.due)
    first = min(due, key=lambda v: v.card.valid_to)
    greeting = f"Chào {content.salutation}"
    holder = content.holder
    others = [v for v in due if holder is None or v.card.bhxh_code != holder.card.bhxh_code]
    said: list[str | Rich]
    if holder is not None:
        said = [f"{greeting}, thẻ BHYT của {pronoun} {_lapse_phrase(holder.status)}."]
        if others:
            said.append(_others_line(others, f"{len(others)} người khác trong gia đình"))
    else:
        said = [f"{greeting}, thẻ BHYT của gia đình {pronoun} cần gia hạn."]
        said.append(_others_line(others, f"{len(others)} người"))
    consequence = consequence_text(first.status)
    if consequence:
        said.append(consequence)
    for household in content.households[:3]:
        if household.cost is not None:
            said.append(cost_text(household.cost, detailed=False))
    said.append(_pay_text(content.pay))
    said.append(i("Không muốn nhận nhắc nữa: bấm nút dưới hoặc gõ /dunglai."))
    return _clip(lines(*said))


def _others_line(views: list[CardView], who: str) -> str:
    """One line when they share a date ("Thẻ của 4 người ... cũng đã hết hạn ngày ..."),
    otherwise one line each."""
    names = ", ".join(v.card.full_name for v in views[:8]) + (" ..." if len(views) > 8 else "")
    if len({v.card.valid_to for v in views}) == 1:
        return f"Thẻ của {who} ({names}) cũng {_lapse_phrase(views[0].status)}."
    out = [f"Thẻ của {who} cần gia hạn:"]
    out += [f"• {v.card.full_name}: {status_text(v.status)}" for v in views[:8]]
    if len(views) > 8:
        out.append(f"• và {len(views) - 8} người khác")
    return "\n".join(out)


def _lapse_phrase(status: CardStatus) -> str:
    if status.state is CardState.LAPSED:
        return f"đã hết hạn ngày {day(status.valid_to)}"
    return f"sẽ hết hạn ngày {day(status.valid_to)}"


def _pay_text(pay: PayInfo) -> Rich:
    if pay.pay_points:
        text = t(f"Đóng tại: {pay.pay_points}, hoặc trên VssID.")
    else:
        text = t(PAY_WHERE)
    if pay.agents:
        where = f" ở {pay.unit_name}" if pay.unit_name else ""
        text += f"\nNgười thu{where}: {', '.join(pay.agents)}."
    return text


def claimed_text(pronoun: str, views: Sequence[CardView]) -> Rich:
    names = ", ".join(v.card.full_name for v in views[:6])
    more = f" và {len(views) - 6} người khác" if len(views) > 6 else ""
    return t(
        f"Cảm ơn {pronoun}! Bot đã ghi lại: đã gia hạn thẻ cho {names}{more}. "
        "Người thu của xã sẽ xác nhận; bot tạm dừng nhắc các thẻ này."
    )


def resumed_text(cadence: Cadence, hours: Hours, linked: bool) -> Rich:
    text = t(
        "Đã bật nhắc gia hạn thẻ BHYT. Bot nhắc tối đa "
        f"{cadence.max_count} lần, mỗi lần cách nhau ít nhất {cadence.interval_days} ngày, "
        f"chỉ trong khoảng {hours.start.strftime('%H:%M')}–{hours.end.strftime('%H:%M')}. "
        "Gõ /dunglai để dừng."
    )
    return text if linked else paragraphs(text, ASK_CONTACT)


# --------------------------------------------------------------------------- agents' list

DOOR_LIST_LINES = 25


def door_list_text(door: DoorList) -> Rich:
    rows = door.rows
    if not rows:
        return t(f"Không có ai hết hạn thẻ mà chưa gia hạn ở {door.scope_label}. 👍")
    out: list[str | Rich] = [
        b(f"Hết hạn thẻ BHYT, chưa gia hạn · {door.scope_label}"),
        f"{len(rows)} người · ngày {day(door.today)} · hết hạn lâu nhất trước",
    ]
    if not door.phones_for:
        out.append(i("Số điện thoại chỉ hiện với người thu phụ trách đơn vị."))
    for number, view in enumerate(rows[:DOOR_LIST_LINES], start=1):
        card = view.row.card
        place = _village(card.address) if card.address else card.unit_code
        phone = f" · {card.phone}" if view.phone_visible and card.phone else ""
        marks = (" · 📱" if view.row.linked else "") + (" · báo đã gia hạn" if view.row.claimed else "")
        out.append(
            f"{number}. {card.full_name} · {place} · {mask_code(card.bhxh_code)} · "
            f"hết hạn {day(card.valid_to)} ({view.status.lapsed_days} ngày){phone}{marks}"
        )
    if len(rows) > DOOR_LIST_LINES:
        out.append(f"… và {len(rows) - DOOR_LIST_LINES} người nữa: xem tệp Excel.")
    out.append("📱 = đã liên kết Telegram, bot đang nhắc. Ghi người đã đóng bằng /ghi.")
    return _clip(lines(*out))


def door_list_caption(door: DoorList) -> Rich:
    """The caption of the /danhsach workbook."""
    return t(f"Danh sách đầy đủ: {len(door.rows)} người")


def _village(address: str) -> str:
    """'Ấp Giồng Mới, Xã Tân Bình' -> 'Ấp Giồng Mới' (the commune is the unit already)."""
    return address.split(",")[0].strip() or address


DOOR_LIST_HEADERS = (
    "STT", "Họ và tên", "Mã số BHXH", "Mã hộ gia đình", "Địa chỉ", "Mã đơn vị", "Hạn thẻ đến",
    "Số ngày quá hạn", "Số điện thoại", "Đã liên kết Telegram", "Báo đã gia hạn",
)


def door_list_xlsx(door: DoorList) -> bytes:
    """The same list as an Excel file (every row), for printing and door-to-door visits.

    Pure and CPU-bound on long lists: the flow runs it in a worker thread. Text from the
    imported lists goes through ``safe_cell_value`` so that no name or address can become a
    formula.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from bot.reports.sheets import first_sheet

    book = Workbook(write_only=False)
    sheet = first_sheet(book)
    sheet.title = "Het han chua gia han"
    title = f"Danh sách thẻ BHYT hết hạn chưa gia hạn · {door.scope_label} · {day(door.today)}"
    sheet.append([safe_cell_value(title)])
    sheet.append([])
    sheet.append(list(DOOR_LIST_HEADERS))
    for cell in sheet[3]:
        cell.font = Font(bold=True)
    for number, view in enumerate(door.rows, start=1):
        card = view.row.card
        phone = card.phone if view.phone_visible and card.phone else ("" if not card.phone else "(ẩn)")
        row: list[object] = [
            number, card.full_name, mask_code(card.bhxh_code), card.household_code or "",
            card.address or "", card.unit_code, day(card.valid_to), view.status.lapsed_days, phone,
            "có" if view.row.linked else "", "có" if view.row.claimed else "",
        ]
        sheet.append([safe_cell_value(value) for value in row])
    for column, width in zip("ABCDEFGHIJK", (5, 26, 14, 14, 34, 10, 12, 10, 14, 10, 10), strict=True):
        sheet.column_dimensions[column].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def door_list_filename(door: DoorList) -> str:
    return f"het_han_chua_gia_han_{door.today.strftime('%Y%m%d')}.xlsx"


# --------------------------------------------------------------------------- import report

MAX_PROBLEM_LINES = 30


def _shown_value(problem: RowProblem) -> str:
    """The offending text for the report: BHXH codes and phones masked like everywhere else."""
    if not problem.value:
        return ""
    if problem.column is Column.BHXH_CODE:
        return mask_code(problem.value)
    if problem.column is Column.PHONE:
        return mask_phone(problem.value)
    return problem.value


def problem_text(problem: RowProblem) -> str:
    """One report line. An out-of-scope row never names a unit: a code already on file in
    another unit reads exactly like a row of another unit (nothing learnt about other units)."""
    label = COLUMN_LABELS.get(problem.column, "") if problem.column else ""
    shown = _shown_value(problem)
    value = f" ({shown[:40]})" if shown else ""
    kind = problem.problem
    texts = {
        Problem.MISSING_CODE: "thiếu mã số BHXH",
        Problem.BAD_CODE: f"mã số BHXH không đúng 10 chữ số{value}",
        Problem.MISSING_NAME: "thiếu họ và tên",
        Problem.MISSING_UNIT: "thiếu mã đơn vị",
        Problem.MISSING_DATE: f"thiếu «{label}»",
        Problem.BAD_DATE: f"ngày «{label}» không có thật hoặc sai dạng{value}",
        Problem.IMPLAUSIBLE_DATE: f"ngày «{label}» không thể là hạn thẻ BHYT{value}: kiểm tra lại năm",
        Problem.BAD_PERIOD: "«Hạn thẻ từ» sau «Hạn thẻ đến»",
        Problem.CONFLICT: f"trùng mã số BHXH với dòng {problem.other_row} nhưng khác thông tin (giữ dòng {problem.other_row})",
        Problem.OUT_OF_SCOPE: "người này thuộc đơn vị ngoài phạm vi của bạn",
        Problem.DUPLICATE: f"lặp lại dòng {problem.other_row}",
        Problem.YEAR_ONLY: f"ngày sinh chỉ có năm{value}",
        Problem.BAD_BIRTH: f"ngày sinh không đọc được{value}",
        Problem.BAD_PHONE: f"số điện thoại không đúng, đã bỏ số{value}",
    }
    return f"• Dòng {problem.row}: {texts[kind]}"


def import_report_text(filename: str, result: ImportResult) -> Rich:
    parsed: ParsedList = result.parsed
    counts: ImportCounts = result.counts
    out: list[str | Rich] = [
        t(b(f"Đã đọc danh sách {filename[:80]}"), f": {parsed.data_rows} dòng, nhập {len(parsed.rows)} người."),
        f"Thêm mới {counts.added} · cập nhật {counts.updated} (hạn thẻ mới hơn: {counts.renewed})"
        f" · không đổi {counts.unchanged}",
    ]
    if counts.older:
        out.append(f"{counts.older} người đã có hạn thẻ mới hơn trong bot: giữ nguyên.")
    groups = (
        (Severity.REJECTED, "Không nhập (sửa rồi gửi lại):"),
        (Severity.SKIPPED, "Bỏ qua:"),
        (Severity.WARNING, "Đã nhập, cần xem lại:"),
    )
    shown = 0
    for severity, title in groups:
        problems = [p for p in parsed.problems if p.severity is severity]
        if not problems:
            continue
        out.append(b(title))
        for problem in problems:
            if shown >= MAX_PROBLEM_LINES:
                break
            out.append(problem_text(problem))
            shown += 1
    if len(parsed.problems) > shown:
        out.append(f"… và {len(parsed.problems) - shown} dòng khác.")
    if not parsed.problems:
        out.append("Không có dòng nào lỗi.")
    if parsed.without_phone:
        out.append(
            f"{parsed.without_phone} người không có số điện thoại: không phải lỗi, họ được liên kết "
            "qua mã hộ gia đình khi người cùng hộ chia sẻ số."
        )
    if result.unknown_units:
        codes = ", ".join(result.unknown_units[:10])
        out.append(f"Mã đơn vị chưa có trong cây đơn vị: {codes}.")
    return _clip(lines(*out))


def _count(number: int) -> str:
    return f"{number:,}".replace(",", ".")


def file_error_text(problem: FileProblem, missing: Sequence[Column] = (), limit: int | None = None) -> Rich:
    """Why a list was refused and what to do; always ends in "Chưa nhập gì" (nothing written)."""
    return t(_file_error(problem, missing, limit))


def _file_error(problem: FileProblem, missing: Sequence[Column], limit: int | None) -> str | Rich:
    if problem is FileProblem.TOO_LARGE:
        return "Tệp quá lớn (tối đa 10 MB). Bạn chia danh sách thành nhiều tệp rồi gửi lại. Chưa nhập gì."
    if problem is FileProblem.FORMAT:
        return t(
            "Bot chỉ đọc được tệp ", b(".xlsx"), " hoặc ", b(".csv"), ". Tệp .xls cũ: mở bằng Excel, "
            "chọn Lưu thành (Save As) .xlsx rồi gửi lại. Chưa nhập gì."
        )
    if problem is FileProblem.NO_HEADER:
        names = ", ".join(COLUMN_LABELS[c] for c in missing) or "Mã số BHXH, Họ và tên, Mã đơn vị, Hạn thẻ đến"
        if not missing or len(missing) >= 4:
            return (
                "Tệp này không giống danh sách thẻ BHYT: không thấy dòng tiêu đề với các cột "
                f"{names}. Nếu đúng là danh sách, bạn kiểm tra tên cột rồi gửi lại. Chưa nhập gì."
            )
        return (
            f"Không tìm thấy dòng tiêu đề có đủ các cột: thiếu {names}. "
            "Bạn kiểm tra tên cột (có dấu hay không dấu đều được) rồi gửi lại. Chưa nhập gì."
        )
    if problem is FileProblem.EMPTY:
        return "Tệp không có dòng dữ liệu nào. Chưa nhập gì."
    if problem is FileProblem.TOO_MANY_ROWS:
        return f"Tệp có quá nhiều dòng (tối đa {_count(limit or MAX_ROWS)}). Bạn chia nhỏ rồi gửi lại. Chưa nhập gì."
    if problem is FileProblem.TOO_MANY_FOR_CHAT:
        return t(
            f"Danh sách có hơn {_count(limit or CHAT_MAX_ROWS)} dòng: quá lớn để gửi qua chat. "
            f"Bạn chia thành các tệp tối đa {_count(limit or CHAT_MAX_ROWS)} dòng rồi gửi lại, "
            "hoặc nhờ quản trị nhập cả tệp trên máy chủ bằng lệnh ",
            code("bhxh-bot import cards TỆP"),
            ". Chưa nhập gì.",
        )
    if problem is FileProblem.TOO_MANY_COLUMNS:
        return (
            f"Tệp có dữ liệu ở quá nhiều cột (tối đa {_count(limit or 256)} cột). Bạn xoá các cột thừa "
            "ở bên phải bảng rồi gửi lại. Chưa nhập gì."
        )
    if problem is FileProblem.SHEET_TOO_BIG:
        return (
            f"Trang tính khai báo hoặc chứa vùng dữ liệu lớn hơn nhiều so với giới hạn "
            f"{_count(limit or MAX_ROWS)} dòng. Bạn xoá các dòng, cột trống thừa ở cuối bảng "
            "(hoặc chép bảng sang một tệp mới) rồi gửi lại. Chưa nhập gì."
        )
    if problem is FileProblem.TOO_MANY_STRINGS:
        return (
            f"Tệp Excel chứa quá nhiều ô chữ khác nhau (tối đa {_count(limit or 0)}) so với số dòng "
            "được phép. Bạn chép bảng sang một tệp mới hoặc lưu thành .csv rồi gửi lại. Chưa nhập gì."
        )
    if problem is FileProblem.UNPACKED_TOO_LARGE:
        return (
            "Tệp Excel khi giải nén lớn bất thường nên bot không mở. Bạn chép bảng sang một tệp mới "
            "hoặc lưu thành .csv rồi gửi lại. Chưa nhập gì."
        )
    return "Tệp bị hỏng hoặc không đọc được. Bạn mở lại bằng Excel, lưu .xlsx hoặc .csv (UTF-8) rồi gửi lại. Chưa nhập gì."


# --------------------------------------------------------------------------- ZNS for admins


def zns_unknown_text(rows: Sequence[UnknownZns]) -> Rich:
    """ZNS reminders whose outcome is unknown (never resent automatically), phones masked."""
    if not rows:
        return t("Không có tin ZNS nào chưa rõ kết quả.")
    head = b(f"{_count(len(rows))} tin ZNS chưa rõ đã đến hay chưa")
    note = t("Bot không tự gửi lại các tin này (tránh gửi trùng, tốn tiền). Zalo báo đã giao thì"
             " bot tự cập nhật; nếu không, đại lý thu gọi điện hoặc đến nhà.")
    body = [t(f"#{r.id} · {r.phone_masked} · {r.unit_code or '-'} · {r.claimed_at or '-'}") for r in rows]
    return paragraphs(head, note, lines(*body))


def reminder_counts_text(counts: ReminderCounts) -> Rich:
    """Reminder figures of a period per unit: by channel, delivered, refused, unknown, ZNS cost."""
    total = counts.total
    head = b(f"Nhắc hạn thẻ BHYT {day(counts.day_from)}–{day(counts.day_to)}")
    body = [_counts_line("Tổng", total)]
    body += [_counts_line(unit, stats) for unit, stats in counts.by_unit.items()]
    return paragraphs(head, lines(*body))


def _counts_line(label: str, s: ReminderStats) -> Rich:
    return t(
        f"{label}: đã nhắc {_count(s.reminded)} (Telegram {_count(s.by_telegram)}, Zalo OA"
        f" {_count(s.by_zalo_oa)}, ZNS {_count(s.by_zns)}); đến nơi {_count(s.reached)},"
        f" Zalo xác nhận đã giao {_count(s.delivered)}, bị từ chối {_count(s.refused)},"
        f" chưa rõ {_count(s.unknown)}; chi phí ZNS {format_vnd(s.zns_cost)}"
    )
