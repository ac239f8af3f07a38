"""Vietnamese reply texts of the citizen conversation, as rich text written once for every channel.

Replies are `bot.chat.rich.Rich` values: every `str` placed in them is literal text (a typed
question echoed back, a rate file's source, a campaign's area), so nothing needs escaping and
nothing can inject markup; bold and italic are styles each channel renders its own way. Layout
follows CONVERSATIONS.md: short lines for a phone, amounts as "1.366.200 đ", the date and legal
basis of every figure, a next step as buttons.
"""

from __future__ import annotations

import re
from datetime import date
from html import escape

from bot.chat.cost import Answer, Ask, CostDraft, OffTopic, Scheme, Stop
from bot.chat.rich import Rich, b, code, i, lines, t
from bot.domain.engine import HouseholdQuote, RefusalReason, Refused, SupportedQuote, VoluntaryQuote
from bot.domain.money import format_number, format_pct, format_vnd, percent_of
from bot.domain.rates import RatesInForce, format_date

# (command, description) of the citizen conversation; bot/commands.py builds the menus.
COMMANDS: list[tuple[str, str]] = [
    ("start", "Bắt đầu, mở menu"),
    ("bhyt", "Tính tiền BHYT (hộ gia đình, nhóm được hỗ trợ)"),
    ("bhxh", "Tính tiền BHXH tự nguyện"),
    ("mucdong", "Mức đóng BHYT, BHXH đang áp dụng và căn cứ"),
    ("help", "Hướng dẫn và lưu ý an toàn"),
]

PAY_WHERE = "Đóng tại đại lý thu của xã, bưu điện, hoặc trên ứng dụng VssID."
SAFETY = t(
    "🔒 Bot ", b("không bao giờ"), " hỏi mật khẩu, mã OTP, ảnh thẻ hay số tài khoản ngân hàng. "
    "Ai hỏi những thứ đó là kẻ lừa đảo."
)
# Plain text on purpose: the Telegram error handler (handlers/telegram/common.py) sends it
# without markup, outside any conversation.
INTERNAL_ERROR = "Xin lỗi, bot vừa gặp lỗi khi xử lý tin nhắn này. Bạn thử lại sau ít phút nhé."
UNKNOWN_COMMAND = t("Bot không có lệnh này. Bạn chọn một mục bên dưới hoặc gõ /help.")
PHOTO_WARNING = t(
    "Bot không cần ảnh thẻ hay giấy tờ, và bạn đừng gửi ảnh thẻ cho ai qua mạng. "
    "Bạn chọn một mục bên dưới để tính tiền đóng."
)
NON_TEXT = t("Bot chỉ đọc được tin nhắn chữ. Bạn chọn một mục bên dưới nhé.")
EXPIRED_BUTTON = t("Nút này không còn dùng được. Bạn chọn lại từ menu nhé.")

MENU_BUTTONS: list[tuple[str, str]] = [
    ("🏥 BHYT hộ gia đình", "m:hgd"),
    ("👴 BHXH tự nguyện", "m:tn"),
    ("🤝 BHYT được hỗ trợ", "m:bhyt"),
    ("🪪 Thẻ BHYT của tôi", "rc:cards"),
    ("❓ Hướng dẫn", "m:help"),
]
MY_CARDS_BUTTON = ("🪪 Thẻ của tôi", "rc:cards")

# Short button labels; the rate file's full label is used in answers.
BHYT_GROUP_SHORT = {
    "can_ngheo": "Hộ cận nghèo",
    "hoc_sinh": "Học sinh, sinh viên",
    "nong_lam_ngu_diem": "Hộ nông, lâm, ngư, diêm nghiệp",
    "dtts_vung_thoat_kho": "DTTS ở xã ra khỏi vùng khó khăn",
    "y_te_thon": "Y tế thôn, cán bộ thôn, tổ",
    "ngheo": "Hộ nghèo",
    "dtts_vung_kho": "DTTS vùng khó khăn",
    "tre_em_duoi_6": "Trẻ em dưới 6 tuổi",
    "bao_tro_xa_hoi": "Bảo trợ xã hội",
    "nan_nhan_mua_ban_nguoi": "Nạn nhân mua bán người",
    "dan_quan": "Dân quân thường trực",
    "nguoi_75_tuat": "Từ 75 tuổi, hưởng tuất",
    "huu_tri_xa_hoi": "Hưởng hưu trí xã hội",
}
BHXH_GROUP_SHORT = {
    "ngheo": "Hộ nghèo",
    "xa_dao_dac_khu": "Sống ở xã đảo, đặc khu",
    "can_ngheo": "Hộ cận nghèo",
    "dtts": "Người dân tộc thiểu số",
    "khac": "Người dân khác",
}
INCOME_SUGGESTIONS = (2_000_000, 3_000_000, 5_000_000, 10_000_000)


def esc(text: object) -> str:
    """Escape text for Telegram's HTML parse mode. Not used by the texts of this module (they are
    Rich); kept only for the reply modules still written as HTML (cards, enrolment,
    organisation), and to be deleted once they are Rich too."""
    return escape(str(text), quote=False)


def day(d: date) -> str:
    return d.strftime("%d/%m/%Y")


def greeting(first_name: str) -> Rich:
    """The /start answer; `first_name` is what the person set on their channel (shown as typed)."""
    name = first_name.strip()[:64] if first_name.strip() else "bạn"
    return t(
        f"Chào {name}! Mình giúp bạn tính tiền đóng ", b("BHYT hộ gia đình"), " và ",
        b("BHXH tự nguyện"), ", đúng đến từng đồng theo quy định hiện hành.\n"
        "Bạn bấm một mục bên dưới, hoặc gõ tự nhiên, ví dụ:\n"
        "• ", i("bhyt hộ gia đình 3 người 12 tháng"), "\n"
        "• ", i("bhxh tự nguyện 2tr hằng tháng"),
    )


HELP_TEXT = t(
    b("Bot làm được gì"), "\n"
    "• Tính tiền ", b("BHYT hộ gia đình"), " cho 1–20 người, đóng 3, 6 hoặc 12 tháng "
    "(người thứ 2, 3, 4 được giảm 30%, 40%, 50%; từ người thứ 5 giảm 60%).\n"
    "• Tính tiền ", b("BHYT được Nhà nước hỗ trợ"), ": hộ cận nghèo, học sinh sinh viên, "
    "hộ nông lâm ngư diêm nghiệp, người dân tộc thiểu số...\n"
    "• Tính tiền ", b("BHXH tự nguyện"), " theo mức thu nhập bạn chọn, kèm mức hỗ trợ.\n"
    "Gõ như khi nhắn tin, có dấu hay không dấu đều được: ", i("bhyt 4 nguoi 6 thang"), ", ",
    i("bhxh tu nguyen 1,5 trieu ho can ngheo"), ", ", i("bhyt hộ gia đình 3 người ngày 01/07/2026"), ".\n"
    "Lệnh: /bhyt · /bhxh · /mucdong (mức đóng, căn cứ) · /start (menu) · /help\n\n",
    SAFETY,
)


def unknown_text(text: str) -> Rich:
    """Free text nobody understood: echoed back (shortened, on one line) with two examples."""
    shown = text.strip().replace("\n", " ")
    if len(shown) > 60:
        shown = shown[:60] + "…"
    echo = f" “{shown}”" if shown else ""
    return t(
        f"Mình chưa hiểu{echo}. Bạn có thể gõ ví dụ ", i("bhyt hộ gia đình 3 người"), " hoặc ",
        i("bhxh tự nguyện 2 triệu"), ", hoặc chọn một mục bên dưới.",
    )


def unclear_answer(field: str) -> Rich:
    hints = {
        "members": "số người, ví dụ 3",
        "months": "số tháng: 3, 6 hoặc 12",
        "income": "mức thu nhập, ví dụ 2tr hoặc 1.500.000",
        "group": "nhóm của bạn bằng nút bên dưới",
        "scheme": "một mục bên dưới",
        "confirm": "“đúng” để tính như trên, hoặc gõ lại câu hỏi",
    }
    return t(f"Mình chưa hiểu câu trả lời. Bạn gõ {hints.get(field, 'lại')}, hoặc bấm nút nhé.")


# --- choice labels (bot.dialogue.DialogueLabels) -------------------------------------------


class Labels:
    """Wording of the dialogue's choices."""

    household = "Hộ gia đình"
    voluntary = "BHXH tự nguyện"
    other_amount = "Nhập mức khác"
    confirm = "✅ Đúng, tính như vậy"
    restart = "✏️ Hỏi lại từ đầu"
    none_of_these = "Không thuộc các nhóm này"
    new_household = "Tính như hộ mới"

    def continue_ladder(self, position: int) -> str:
        return f"Họ mua thẻ hộ trong năm nay: tính từ người thứ {position}"

    def extra_member(self, position: int) -> str:
        return f"Những người kia mua thẻ hộ trong năm nay: người thứ {position}"

    def members_all(self, n: int) -> str:
        return f"Tính cả {n} người"

    def adults_only(self, n: int) -> str:
        return f"Chỉ tính {n} người lớn"

    def bhyt_groups(self, rates: RatesInForce) -> list[tuple[str, str]]:
        result = []
        for key, group in rates.bhyt_support.groups.items():
            short = BHYT_GROUP_SHORT.get(key, group.label)
            suffix = "miễn phí" if group.free else format_pct(group.percent)
            result.append((key, f"{short} ({suffix})"))
        return result

    def bhxh_groups(self, rates: RatesInForce) -> list[tuple[str, str]]:
        return [
            (key, BHXH_GROUP_SHORT.get(key, group.label))
            for key, group in rates.bhxh_voluntary.support.items()
        ]

    def members(self, n: int) -> str:
        return f"{n} người"

    def months(self, m: int) -> str:
        return "Hằng tháng" if m == 1 else f"{m} tháng"

    def amount(self, vnd: int) -> str:
        return format_vnd(vnd)

    def compute_with(self, vnd: int) -> str:
        return f"Tính với {format_vnd(vnd)}"

    def income_suggestions(self, rates: RatesInForce) -> list[int]:
        low = rates.min_income
        high = rates.max_income
        return [low] + [a for a in INCOME_SUGGESTIONS if low < a <= high]

    def allowed_months(self, rates: RatesInForce, voluntary: bool) -> list[int]:
        row = rates.bhxh_voluntary if voluntary else rates.bhyt_household
        return list(row.allowed_months)


LABELS = Labels()


# --- questions ------------------------------------------------------------------------------


def _covered_note(draft: CostDraft) -> str:
    if draft.start and draft.start > 1:
        return f" (tính tiếp từ người thứ {draft.start} của hộ)"
    return f" ({draft.covered} người đã có thẻ khác không tính)" if draft.covered else ""


def _period(draft: CostDraft) -> str | None:
    if draft.months is None:
        return None
    if draft.scheme == Scheme.BHXH_VOLUNTARY and draft.months == 1:
        return "hằng tháng"
    return f"{draft.months} tháng"


def draft_heading(draft: CostDraft, on: date | None = None, ethnic: bool = False) -> str:
    """What is known so far, so a follow-up question is never out of context: who, how
    many, how long, which date (`on`, else the date the person gave, if any)."""
    parts: list[str] = []
    if draft.scheme == Scheme.BHYT_HOUSEHOLD:
        parts.append("BHYT hộ gia đình")
        if draft.members:
            parts.append(f"{draft.members} người{_covered_note(draft)}")
    elif draft.scheme == Scheme.BHYT_SUPPORTED:
        parts.append("BHYT")
        if draft.group:
            parts.append(BHYT_GROUP_SHORT.get(draft.group, draft.group))
        elif ethnic:
            parts.append("người dân tộc thiểu số")
    elif draft.scheme == Scheme.BHXH_VOLUNTARY:
        parts.append("BHXH tự nguyện")
        if draft.income:
            parts.append(f"thu nhập {format_vnd(draft.income)}")
        if draft.group:
            parts.append(BHXH_GROUP_SHORT.get(draft.group, draft.group))
    period = _period(draft)
    if period and parts:
        parts.append(period)
    when = on or draft.on
    if when:
        parts.append(f"ngày {day(when)}")
    return " · ".join(parts)


def ask_text(ask: Ask, rates: RatesInForce) -> Rich:
    """A follow-up question, headed by what is known so far (or why the last answer was refused)."""
    parts: list[Rich] = []
    if ask.reason == "unused":
        return _unused_text(ask)
    if ask.reason in ASK_TEXTS:
        return t("Mình hiểu: ", b(draft_heading(ask.draft)), ".\n", ASK_TEXTS[ask.reason](ask))
    if ask.refused is not None and ask.reason != "long_period":
        parts.append(refusal_text(ask.refused, rates))
    elif ask.reason in ("children", "ethnic"):
        heading = draft_heading(ask.draft, ethnic=ask.reason == "ethnic")
        parts.append(t("Mình hiểu: ", b(heading), "."))
    else:
        heading = draft_heading(ask.draft)
        if heading:
            parts.append(b(heading))
    parts.append(_question(ask, rates))
    return lines(*parts)


def _household_cards_text(ask: Ask) -> Rich:
    covered = ask.draft.covered or 0
    return t(
        f"{covered} người kia đã có thẻ BHYT hộ gia đình. Nếu họ mua thẻ trong năm tài chính này, "
        f"người mua thêm được tính tiếp từ người thứ {covered + 1} (đóng ít hơn); nếu không, "
        "tính như hộ mới. Họ mua thẻ khi nào?"
    )


def _free_child_text(ask: Ask) -> Rich:
    return t(
        "Cháu dưới 6 tuổi được cấp thẻ BHYT ", b("miễn phí"), ", không tính vào hộ. "
        "Mình tính cho bạn (1 người) nhé?"
    )


def _extra_member_text(ask: Ask) -> Rich:
    return t(
        "Bạn mua thêm cho người vào hộ đã có thẻ BHYT hộ gia đình. Nếu những người kia mua thẻ "
        "trong năm tài chính này, người mua thêm được tính tiếp theo thứ tự trong hộ (đóng ít hơn); "
        "nếu không, tính như hộ mới. Người mua thêm là người thứ mấy của hộ?"
    )


ASK_TEXTS = {
    "household_cards": _household_cards_text, "free_child": _free_child_text,
    "extra_member": _extra_member_text,
}


# A hostile message can hold hundreds of stray numbers: name a few, the reply stays short.
MAX_UNUSED_SHOWN = 4


def _unused_text(ask: Ask) -> Rich:
    """Something in the question was not used: say what was understood, never a figure.
    The unused words are echoed as the person typed them (shortened)."""
    heading = draft_heading(ask.draft)
    example = i(_EXAMPLES.get(ask.draft.scheme, _EXAMPLES[Scheme.BHYT_HOUSEHOLD]))
    shown = [f"“{item[:30]}”" for item in ask.unused[:MAX_UNUSED_SHOWN]]
    if len(ask.unused) > MAX_UNUSED_SHOWN:
        shown.append("…")
    unused = ", ".join(shown)
    if ask.second:
        others = [f"“{item[:30]}”" for item in ask.unused if item != ask.second][:MAX_UNUSED_SHOWN]
        also = f"Câu hỏi còn có {', '.join(others)} mà mình chưa dùng khi tính.\n" if others else ""
        return t(
            "Mình hiểu: ", b(heading), ".\n"
            f"Bạn hỏi hai phần: mình trả lời phần trên trước; phần “{ask.second[:60]}” "
            f"bạn hỏi lại sau nhé.\n{also}"
            "Bạn muốn tính phần trên không? Nếu chưa đúng, bạn gõ lại câu hỏi rõ hơn nhé, "
            "ví dụ ", example, ".",
        )
    return t(
        "Mình hiểu: ", b(heading), ".\n"
        f"Nhưng câu hỏi còn có {unused} mà mình chưa dùng được khi tính.\n"
        "Bạn muốn tính đúng như trên không? Nếu chưa đúng, bạn gõ lại câu hỏi rõ hơn nhé, "
        "ví dụ ", example, ".",
    )


# Keyed by the draft's scheme, which is None before one is known (then the household example).
_EXAMPLES: dict[Scheme | None, str] = {
    Scheme.BHYT_HOUSEHOLD: "bhyt hộ gia đình 3 người 12 tháng",
    Scheme.BHYT_SUPPORTED: "bhyt cận nghèo 12 tháng",
    Scheme.BHXH_VOLUNTARY: "bhxh tự nguyện 2 triệu hộ nghèo hằng tháng",
}


def _question(ask: Ask, rates: RatesInForce) -> Rich:
    return t(_question_words(ask, rates))


def _question_words(ask: Ask, rates: RatesInForce) -> str | Rich:
    field, draft = ask.field, ask.draft
    if field == "scheme":
        return "Bạn muốn tính BHYT cho ai?" if draft.scheme == Scheme.BHYT else "Bạn muốn tính khoản nào?"
    if field == "members" and ask.reason == "children":
        return (
            f"Trong đó có {ask.children} cháu. Trẻ dưới 6 tuổi được cấp thẻ BHYT miễn phí, "
            "học sinh, sinh viên mua BHYT học sinh ở trường: các cháu đó không tính vào hộ.\n"
            "Bạn muốn tính thế nào?"
        )
    if field == "group" and ask.reason == "ethnic":
        return t(
            "Người dân tộc thiểu số sống ở vùng khó khăn được cấp thẻ ", b("miễn phí"), "; ở xã "
            "đã ra khỏi vùng khó khăn được Nhà nước hỗ trợ 70%. Xã của bạn thuộc trường hợp nào?"
        )
    if field == "members":
        return "Hộ gia đình có mấy người cùng tham gia? (nhiều hơn 6 người thì gõ số)"
    if field == "months" and ask.reason == "long_period":
        return (
            "Đóng một lần cho nhiều năm (tối đa 5 năm, có giảm trừ) bot chưa tính được. "
            "Bạn chọn kỳ đóng bot tính được:"
        )
    if field == "months":
        if draft.scheme == Scheme.BHXH_VOLUNTARY:
            return "Bạn muốn đóng theo phương thức nào?"
        return "Bạn muốn đóng cho bao lâu?"
    if field == "income":
        if ask.refused is not None:
            return "Tính với mức này, hay bạn nhập mức khác?"
        return t(
            "Bạn chọn mức thu nhập làm căn cứ đóng mỗi tháng (từ "
            f"{format_vnd(rates.min_income)} đến {format_vnd(rates.max_income)}). "
            "Bấm nút hoặc gõ số, ví dụ ", i("2tr"), ".",
        )
    if draft.scheme == Scheme.BHXH_VOLUNTARY:
        return "Bạn thuộc nhóm nào? (để tính mức Nhà nước hỗ trợ)"
    return "Bạn thuộc nhóm nào?"


def refusal_text(refused: Refused, rates: RatesInForce | None = None) -> Rich:
    """Why the engine cannot compute this, and what can be computed instead."""
    return t(_refusal_words(refused))


def _refusal_words(refused: Refused) -> str | Rich:
    reason = refused.reason
    if reason == RefusalReason.INCOME_BELOW_MIN:
        return t(
            "Mức thu nhập chọn đóng thấp nhất là ", b(format_vnd(refused.limit or 0)), "/tháng "
            "(chuẩn nghèo khu vực nông thôn)."
        )
    if reason == RefusalReason.INCOME_ABOVE_MAX:
        return t(
            "Mức thu nhập chọn đóng cao nhất là ", b(format_vnd(refused.limit or 0)), "/tháng "
            "(20 lần lương cơ sở)."
        )
    if reason == RefusalReason.MEMBERS_RANGE:
        return f"Mỗi lần tính được từ 1 đến {refused.limit or 20} người trong hộ."
    if reason == RefusalReason.MONTHS_NOT_ALLOWED:
        allowed = ", ".join(str(m) for m in (refused.allowed or ()))
        return f"Chỉ đóng được theo các kỳ: {allowed} tháng."
    if reason == RefusalReason.GROUP_NOT_AVAILABLE:
        if refused.available_from:
            return f"Nhóm này chỉ được hỗ trợ từ ngày {day(refused.available_from)}. Bạn chọn nhóm khác nhé."
        asked = f" vào ngày {day(refused.on)}" if refused.on else ""
        return f"Nhóm này không được hỗ trợ{asked}. Bạn chọn nhóm khác nhé."
    if reason == RefusalReason.UNKNOWN_GROUP:
        return "Mình chưa rõ bạn thuộc nhóm nào."
    if reason == RefusalReason.NO_RATES:
        first = f" từ ngày {day(refused.available_from)}" if refused.available_from else ""
        asked = f" ngày {day(refused.on)}" if refused.on else ""
        return f"Bot chưa có mức đóng cho{asked}; bot tính được{first} trở đi."
    return "Không tính được với thông tin này. Bạn thử lại từ menu nhé."


# --- answers --------------------------------------------------------------------------------


def answer_text(answer: Answer) -> Rich:
    """The figure: what it was computed for, the lines of the computation, its legal basis and
    date, any caveat (a group's, a coming change, the card's expiry), and where to pay."""
    quote = answer.quote
    if isinstance(quote, HouseholdQuote):
        body = _household(quote)
    elif isinstance(quote, SupportedQuote):
        body = _supported(quote, answer.campaign_name)
    else:
        body = _voluntary(quote)
    # A group's caveat (a time-limited or unconfirmed support) goes with every answer for it.
    caveat = None if isinstance(quote, HouseholdQuote) else quote.group_caveat
    if caveat:
        body += f"\n⚠️ {_tidy(caveat)}"
    if answer.upcoming is not None:
        starts, lowest = answer.upcoming
        body += t(
            f"\n⚠️ Từ ngày {day(starts)}, mức thu nhập thấp nhất là {format_vnd(lowest)} "
            "và mức hỗ trợ thay đổi: đóng từ ngày đó thì số tiền khác."
        )
    if answer.expired is not None and isinstance(quote, VoluntaryQuote):
        pass  # a card's expiry says nothing about a voluntary-BHXH payment
    elif answer.expired is not None and answer.expired < answer.on:
        body += "\nThẻ cũ đã hết hạn: số tiền tính theo ngày bạn đóng, không theo ngày thẻ hết hạn."
    elif answer.expired is not None:
        body += t(
            f"\nThẻ của bạn còn hạn đến ngày {day(answer.expired)}: nên gia hạn trước ngày đó để "
            "thẻ không bị gián đoạn. Số tiền tính theo ngày bạn đóng."
        )
    text = lines(computed_for(answer), body + _campaign_note(answer), i(f"Tính theo quy định ngày {day(answer.on)}."))
    free = isinstance(quote, SupportedQuote) and quote.free
    return text if free else lines(text, PAY_WHERE)


_PERCENT_SPACE_RE = re.compile(r"(\d) %")


def _tidy(text: str) -> str:
    """A rate-file text with percentages written one way ("100%", as format_pct)."""
    return _PERCENT_SPACE_RE.sub(r"\1%", text)


def computed_for(answer: Answer) -> Rich:
    """One line saying what the figure was computed for (who, how many, how long, which
    date, where when a campaign's area applies), so a misreading is visible at a glance."""
    draft = answer.draft
    if isinstance(answer.quote, SupportedQuote) and answer.quote.free:
        draft = draft.with_(months=None)  # a free card has no period to pay for
    line = draft_heading(draft, on=answer.on)
    if answer.area_label:
        line += f" · ở {answer.area_label}"
    return i(f"Tính cho: {line}")


def _campaign_note(answer: Answer) -> Rich:
    hint = answer.hint
    if hint is None:
        return t()
    return t(
        "\n📣 Nếu bạn sống ở ", b(hint.area), f": trong {hint.campaign_name}, "
        "bạn chỉ đóng ", b(format_vnd(hint.person_pays)), " (phần còn lại được hỗ trợ thêm). "
        "Bấm nút bên dưới để tính lại."
    )


def campaign_area_button(answer: Answer) -> str | None:
    """Label of the button that recomputes inside the campaign's area, if one applies."""
    return None if answer.hint is None else f"📍 Tôi ở {answer.hint.area}"[:60]


OFF_TOPIC_TEXTS: dict[str, Rich] = {
    "nhan_tho": t(
        "Bot không tính ", b("bảo hiểm nhân thọ"), " (bảo hiểm thương mại). "
        "Bạn hỏi trực tiếp công ty bảo hiểm hoặc tư vấn viên của công ty đó nhé."
    ),
    "bat_buoc": t(
        "Bot không tính ", b("BHXH, BHYT bắt buộc"), ": khoản này do nơi làm việc đóng theo tiền lương. "
        "Bạn hỏi bộ phận nhân sự nơi làm việc hoặc BHXH cơ sở (BHXH xã, phường) nhé."
    ),
    "xe": t(
        "Bot không tính ", b("bảo hiểm xe máy, ô tô"), ". "
        "Bạn hỏi đại lý hoặc công ty bảo hiểm bán loại bảo hiểm đó nhé."
    ),
    "tai_nan": t(
        "Bot không tính ", b("bảo hiểm tai nạn, thân thể học sinh"), " (bảo hiểm thương mại, tự "
        "nguyện). Bạn hỏi nhà trường hoặc công ty bảo hiểm nhé."
    ),
    "o_dau": t(
        "Bạn mua hoặc gia hạn thẻ BHYT tại đại lý thu của xã, phường, bưu điện, hoặc trên "
        "ứng dụng VssID. Học sinh, sinh viên mua ở trường."
    ),
    "that_nghiep": t(
        "Bot không tính ", b("bảo hiểm thất nghiệp"), ": khoản này đóng cùng BHXH bắt buộc ở nơi "
        "làm việc. Bạn hỏi cơ quan BHXH hoặc Trung tâm dịch vụ việc làm nhé."
    ),
}


def off_topic_text(off: OffTopic) -> Rich:
    """A clear "not this bot" for insurance it does not quote, and what it does quote."""
    first = OFF_TOPIC_TEXTS.get(off.topic, t("Bot không tính loại bảo hiểm này."))
    return t(
        first, "\nBot tính được: ", b("BHYT hộ gia đình"), ", ", b("BHYT được Nhà nước hỗ trợ"),
        " và ", b("BHXH tự nguyện"), ". Bạn chọn một mục bên dưới.",
    )


def _household(q: HouseholdQuote) -> Rich:
    rows: list[str | Rich] = []
    shown = q.lines if q.members <= 6 else q.lines[:5]
    for line in shown:
        share = "" if line.index == 1 else f" ({format_pct(line.ladder_percent)})"
        rows.append(f"- Người thứ {line.index}: {format_vnd(line.amount)}{share}")
    if q.members > 6:
        rest = q.lines[5:]
        each = rest[0]
        rows.append(
            f"- Người thứ {each.index} đến {rest[-1].index}: {format_vnd(each.amount)} × {len(rest)} người "
            f"({format_pct(each.ladder_percent)})"
        )
    rows.append(b(f"Tổng: {format_vnd(q.total)}"))
    rows.append(
        f"Mức đóng {format_pct(q.rate_percent)} lương cơ sở {format_vnd(q.base_salary)} "
        f"({q.base_salary_source}, từ {day(q.base_salary_from)}); "
        f"giảm trừ theo {q.ladder_source}."
    )
    return lines(*rows)


def _supported(q: SupportedQuote, campaign_name: str | None) -> Rich:
    if q.free:
        return t(
            "Nhóm này được ngân sách Nhà nước ", b("cấp thẻ miễn phí"), " (hỗ trợ 100%): "
            "bạn không phải đóng. Liên hệ UBND xã hoặc trưởng thôn, ấp để được lập danh sách.\n"
            f"Căn cứ: {q.support_source}."
        )
    rows: list[str | Rich] = [
        f"- Mức đóng đầy đủ: {format_vnd(q.total)} "
        f"({format_pct(q.rate_percent)} × {format_vnd(q.base_salary)} × {q.months} tháng)",
        f"- Ngân sách Nhà nước hỗ trợ {format_pct(q.support_percent)}: −{format_vnd(q.budget)}",
    ]
    for funder in q.funders:
        rows.append(f"- {funder.name} hỗ trợ: −{format_vnd(funder.amount)}")
    rows.append(b(f"Bạn đóng: {format_vnd(q.person_pays)}"))
    basis = f"Hỗ trợ theo {q.support_source}; lương cơ sở theo {q.base_salary_source}."
    if q.group_note and q.group_note != q.group_caveat:  # the caveat line says it already
        basis += f" Lưu ý: {_tidy(q.group_note)}"
    rows.append(basis)
    if q.cofunded and campaign_name:
        rows.append(f"Phần hỗ trợ thêm thuộc {campaign_name}.")
    return lines(*rows)


def _voluntary(q: VoluntaryQuote) -> Rich:
    rows: list[str | Rich] = [
        f"- Mức đóng {format_pct(q.rate_percent)}: {format_vnd(q.monthly_gross)}/tháng",
        f"- Nhà nước hỗ trợ ({BHXH_GROUP_SHORT.get(q.group, q.group_label)}, {format_pct(q.support_percent)}): "
        f"−{format_vnd(q.monthly_support)}/tháng",
        b(f"Bạn đóng: {format_vnd(q.monthly_net)}/tháng"),
    ]
    if q.months > 1:
        rows.append(
            t(
                b(f"Mỗi lần đóng {q.months} tháng: {format_vnd(q.period_net)}"),
                f" (đã trừ hỗ trợ {format_vnd(q.period_support)})",
            )
        )
    rows.append(
        f"Hỗ trợ theo {q.support_source}, tính trên {format_pct(q.rate_percent)} × chuẩn nghèo "
        f"nông thôn, tối đa {format_number(q.max_support_months)} tháng."
    )
    return lines(*rows)


def stop_text(stop: Stop) -> Rich:
    """The dialogue cannot go on: no rates for the date asked, or a refusal no choice can fix."""
    if stop.known_until is not None:
        asked = f" ngày {day(stop.refused.on)}" if stop.refused.on else ""
        return t(
            f"Bot chưa biết mức đóng cho{asked}: bảng mức đóng chỉ có các quy định đã ban hành. "
            f"Bot tính được đến ngày {day(stop.known_until)}."
        )
    return refusal_text(stop.refused)


ANSWER_AGAIN = "🔁 Tính lại"


# --- /mucdong: the figures in force on a day, each with its legal basis ---------------------

RATES_BAD_DATE = t(
    "Ngày chưa đúng. Gõ ", code("/mucdong"), " để xem mức đóng hôm nay, hoặc ",
    code("/mucdong 01/01/2027"), " cho một ngày khác.",
)


def rates_text(rates: RatesInForce, next_change: date | None) -> Rich:
    """What one month or year of each scheme costs on `rates.on`, for a phone screen: the base
    salary, the household ladder for 12 months, the voluntary BHXH income range, lowest
    contribution and state support, each with the decree it comes from; then the next date a
    table changes (already in the tables), so nobody pays last month's figure by mistake."""
    household = rates.bhyt_household
    voluntary = rates.bhxh_voluntary
    steps = len(household.ladder_percent)
    ladder = [
        t(f"Người thứ {n}{' trở đi' if n == steps else ''}: ", b(format_vnd(rates.bhyt_member_monthly(n) * 12)))
        for n in range(1, steps + 1)
    ]
    support = [
        t(f"{group.label}: ", format_vnd(rates.voluntary_support_monthly(group)), "/tháng")
        for group in voluntary.support.values()
    ]
    lowest = percent_of(rates.min_income, voluntary.rate_percent)
    parts: list[str | Rich] = [
        b(f"📋 Mức đóng áp dụng ngày {format_date(rates.on)}"),
        t(f"Lương cơ sở: {format_vnd(rates.base_salary.amount)}/tháng ", i(f"({rates.base_salary.source})")),
        "",
        b("BHYT hộ gia đình, 12 tháng"),
        i(f"{format_pct(household.rate_percent)} lương cơ sở mỗi tháng, giảm dần từ người thứ 2 ({household.source})"),
        *[t("• ", line) for line in ladder],
        "",
        b("BHXH tự nguyện"),
        i(f"{format_pct(voluntary.rate_percent)} thu nhập tự chọn ({voluntary.rate_source})"),
        t("• Thu nhập từ ", format_vnd(rates.min_income), " đến ", format_vnd(rates.max_income), "/tháng"),
        t("• Đóng thấp nhất: ", b(format_vnd(lowest)), "/tháng, trước hỗ trợ"),
        t(f"• Nhà nước hỗ trợ mỗi tháng ({voluntary.source}):"),
        *[t("   – ", line) for line in support],
    ]
    if next_change is not None:
        parts += ["", t(
            f"⏳ Từ {format_date(next_change)} mức đóng thay đổi. Xem trước: ",
            code(f"/mucdong {format_date(next_change)}"),
        )]
    parts += ["", t("Tính cho gia đình bạn: /bhyt hoặc /bhxh.")]
    return lines(*parts)
