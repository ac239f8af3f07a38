"""bot/chat/layout.py: one reply, laid out for Telegram and for a Zalo OA from capabilities."""

from __future__ import annotations

import dataclasses
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.chat.layout import FileLink, ImageTooLarge, OutMessage, layout, shorten, split_rich, utf16_len
from bot.chat.model import TELEGRAM, ZALO_OA, Button, Capabilities, File, Reply
from bot.chat.rich import Rich, b, i, paragraphs, t
from bot.chat.texts.common import LAYOUT_TEXTS
from devtools.telegram_emulator import parse_html as telegram_parse_html
from tests.test_chat_rich import check_html

WORDS = ["bảo", "hiểm", "y", "tế", "hộ", "gia", "đình", "1.366.200", "đ", "tháng", "thẻ", "BHXH", "<tự>", "&nguyện"]


def _words(n_chars: int, seed: int = 0) -> str:
    """Deterministic Vietnamese-looking words separated by single spaces, at most n_chars long
    and within 12 characters of it; no word is cut."""
    out: list[str] = []
    length = -1
    k = seed
    while length + len(WORDS[k % len(WORDS)]) + 1 <= n_chars:
        out.append(WORDS[k % len(WORDS)])
        length += len(out[-1]) + 1
        k += 5  # coprime with len(WORDS): every word appears
    return " ".join(out)


def _lay(reply: Reply, caps: Capabilities) -> list[OutMessage]:
    return layout(reply, caps, texts=LAYOUT_TEXTS)


def _menu(n: int) -> tuple[tuple[Button, ...], ...]:
    return tuple((Button(f"Lựa chọn {k}", payload=f"m:{k}"),) for k in range(1, n + 1))


# ---- text ----------------------------------------------------------------------------------


def test_a_5000_character_reply_on_zalo_is_three_messages_with_no_word_cut() -> None:
    text = _words(5000)
    assert len(text) >= 4990
    messages = _lay(Reply(t(text)), ZALO_OA)
    assert len(messages) == 3
    for message in messages:
        assert 0 < len(message.text) <= 2000
        assert all(word in WORDS for word in message.text.split())
        assert message.buttons == () and message.file is None
    assert " ".join(m.text for m in messages).split() == text.split()


def test_the_same_reply_on_telegram_is_two_html_messages_within_4096() -> None:
    text = _words(5000)
    messages = _lay(Reply(t(text)), TELEGRAM)
    assert len(messages) == 2
    visible = [telegram_parse_html(m.text)[0] for m in messages]
    assert all(utf16_len(v) <= 4096 for v in visible)
    assert " ".join(visible).split() == text.split()
    assert "&lt;tự&gt;" in messages[0].text  # escaped in HTML, literal on Zalo
    assert "<tự>" in _lay(Reply(t(text)), ZALO_OA)[0].text


def test_a_short_reply_is_one_message_on_both_channels() -> None:
    reply = Reply(t("Chào ") + b("Tô Thị Ánh") + "!")
    assert _lay(reply, TELEGRAM) == [OutMessage("Chào <b>Tô Thị Ánh</b>!")]
    assert _lay(reply, ZALO_OA) == [OutMessage("Chào Tô Thị Ánh!")]


def test_paragraph_breaks_are_preferred_then_line_breaks_then_spaces() -> None:
    first, second, third = _words(1200, 1), _words(1200, 2), _words(700, 3)
    messages = _lay(Reply(paragraphs(first, second, third)), ZALO_OA)
    assert [m.text for m in messages] == [first, second + "\n\n" + third]

    lines_text = "\n".join([_words(900, 4), _words(900, 5), _words(900, 6)])
    messages = _lay(Reply(t(lines_text)), ZALO_OA)
    one, two, three = lines_text.split("\n")
    assert [m.text for m in messages] == [one + "\n" + two, three]

    spaced = _words(1500, 8) + " " + _words(1500, 9)  # no line break: cut at the last space
    messages = _lay(Reply(t(spaced)), ZALO_OA)
    assert len(messages) == 2 and len(messages[0].text) > 1900
    assert (messages[0].text + " " + messages[1].text) == spaced


def test_a_far_break_is_not_preferred_to_a_full_message() -> None:
    """A paragraph break in the first few characters would leave a 10-character message."""
    text = "Kết quả:\n\n" + _words(2500, 7)
    messages = _lay(Reply(t(text)), ZALO_OA)
    assert len(messages[0].text) > 1000
    assert messages[0].text.startswith("Kết quả:\n\n")


def test_a_word_longer_than_a_message_is_cut_but_never_before_its_combining_mark() -> None:
    caps = dataclasses.replace(ZALO_OA, max_text=10)
    decomposed = unicodedata.normalize("NFD", "nguyễnnguyễnnguyễn")
    messages = _lay(Reply(t(decomposed)), caps)
    assert "".join(m.text for m in messages) == decomposed
    for message in messages:
        assert len(message.text) <= 10
        assert not unicodedata.combining(message.text[0])


def test_lengths_are_counted_in_utf16_units() -> None:
    text = " ".join(["👍"] * 1500)  # each emoji is 2 UTF-16 units: 4499 units in all
    messages = _lay(Reply(t(text)), ZALO_OA)
    assert all(utf16_len(m.text) <= 2000 for m in messages)
    assert len(messages) == 3
    assert sum(m.text.count("👍") for m in messages) == 1500


def test_html_chunks_each_parse_and_keep_their_styles() -> None:
    caps = dataclasses.replace(TELEGRAM, max_text=60)
    rich = t("Mở đầu & ") + b("đoạn đậm rất dài <không> phải thẻ, " * 4) + i("nghiêng & cuối " * 3)
    messages = _lay(Reply(rich), caps)
    assert len(messages) > 3
    visible: list[str] = []
    for message in messages:
        text, tags = check_html(message.text)
        parsed, _ = telegram_parse_html(message.text)
        assert parsed == text.strip() and utf16_len(parsed) <= 60
        assert tags  # every chunk carries its own opening tags
        visible.append(text)
    assert " ".join(visible).split() == rich.plain.split()
    assert messages[1].text.startswith("<b>") and messages[-1].text.startswith("<i>")


def _styled_words() -> st.SearchStrategy[Rich]:
    word = st.text(alphabet="aăâbđêôơưxyz&<>;ệữ👍", min_size=1, max_size=12)
    piece = st.tuples(word, st.sampled_from([t, b, i]), st.sampled_from([" ", "\n", "\n\n"]))
    return st.lists(piece, min_size=1, max_size=60).map(
        lambda ps: Rich(run for w, style, sep in ps for run in (style(w) + sep).runs)
    )


@settings(max_examples=150)
@given(_styled_words(), st.integers(24, 300), st.sampled_from([TELEGRAM, ZALO_OA]))
def test_any_text_splits_within_the_limit_with_words_whole_and_valid_markup(
    rich: Rich, limit: int, base: Capabilities
) -> None:
    caps = dataclasses.replace(base, max_text=limit)
    messages = _lay(Reply(rich + "."), caps)
    visible: list[str] = []
    for message in messages:
        if caps.markup == "html":
            text, _ = check_html(message.text)
            assert telegram_parse_html(message.text)[0] == text
        else:
            text = message.text
        assert text == text.strip() and text
        assert utf16_len(text) <= limit
        visible.append(text)
    assert " ".join(visible).split() == (rich.plain + ".").split()


def test_split_rich_of_blank_text_is_empty() -> None:
    assert split_rich(t(" \n\n "), 10) == []
    assert split_rich(b("  x  "), 10) == [b("x")]


# ---- buttons -------------------------------------------------------------------------------


def test_a_menu_of_8_is_5_then_3_buttons_on_zalo_and_one_message_on_telegram() -> None:
    reply = Reply(t("Bạn muốn hỏi gì?"), buttons=_menu(8))
    zalo = _lay(reply, ZALO_OA)
    assert [m.text for m in zalo] == ["Bạn muốn hỏi gì?", "Chọn tiếp:"]
    assert [sum(len(row) for row in m.buttons) for m in zalo] == [5, 3]
    assert all(len(row) == 1 for m in zalo for row in m.buttons)
    assert [btn.payload for m in zalo for row in m.buttons for btn in row] == [f"m:{k}" for k in range(1, 9)]

    telegram = _lay(reply, TELEGRAM)
    assert telegram == [OutMessage("Bạn muốn hỏi gì?", _menu(8))]


def test_rows_are_reflowed_to_the_row_width_and_never_split_across_messages() -> None:
    row = tuple(Button(str(k), payload=str(k)) for k in range(10))
    [message] = _lay(Reply(t("Chọn số"), buttons=(row,)), TELEGRAM)
    assert [len(r) for r in message.buttons] == [8, 2]

    caps = dataclasses.replace(TELEGRAM, max_buttons_per_message=5, max_buttons_per_row=3)
    rows = ((Button("a", payload="a"), Button("b", payload="b")),) * 3
    messages = _lay(Reply(t("Chọn"), buttons=rows), caps)
    assert [[len(r) for r in m.buttons] for m in messages] == [[2, 2], [2]]


def test_more_than_100_buttons_page_on_telegram_too() -> None:
    messages = _lay(Reply(t("Danh sách xã"), buttons=_menu(230)), TELEGRAM)
    assert [sum(len(r) for r in m.buttons) for m in messages] == [100, 100, 30]
    assert [m.text for m in messages[1:]] == ["Chọn tiếp:", "Chọn tiếp:"]


def test_buttons_go_on_the_last_text_message() -> None:
    reply = Reply(t(_words(3000)), buttons=_menu(2))
    messages = _lay(reply, ZALO_OA)
    assert [len(m.buttons) for m in messages] == [0, 2]


def test_a_too_long_payload_is_a_programming_error_naming_its_length_only() -> None:
    secret = "ư" * 33  # 66 bytes in UTF-8, 33 characters
    reply = Reply(t("x"), buttons=((Button("Xem", payload=secret),),))
    with pytest.raises(ValueError, match="66 bytes; telegram allows at most 64") as raised:
        _lay(reply, TELEGRAM)
    assert secret not in str(raised.value)
    assert _lay(reply, ZALO_OA)[0].buttons[0][0].payload == secret
    with pytest.raises(ValueError, match="998 bytes"):
        _lay(Reply(t("x"), buttons=((Button("Xem", payload="p" * 998),),)), ZALO_OA)


def test_long_labels_are_shortened_with_an_ellipsis() -> None:
    label = "Ủy ban nhân dân xã " * 8
    messages = _lay(Reply(t("Chọn xã"), buttons=((Button(label, payload="x"),),)), ZALO_OA)
    shortened = messages[0].buttons[0][0]
    assert len(shortened.label) <= 100 and shortened.label.endswith("…")
    assert label.startswith(shortened.label[:-1])
    assert shortened.payload == "x"
    assert shorten("ngắn", 4) == "ngắn" and shorten("dài quá", 4) == "dài…"


def test_buttons_without_text_get_a_heading() -> None:
    png = File("bieu-do.png", b"\x89PNG", "png")
    messages = _lay(Reply(t(""), buttons=_menu(1), files=(png,)), ZALO_OA)
    assert messages[0] == OutMessage("Mời chọn:", _menu(1))
    assert messages[1].file == png


# ---- files ---------------------------------------------------------------------------------


def test_xlsx_is_a_link_on_zalo_and_a_document_on_telegram() -> None:
    xlsx = File("bao-cao-thang-11.xlsx", b"PK\x03\x04", "xlsx")
    reply = Reply(t("Báo cáo tháng 11"), files=(xlsx,))
    telegram = _lay(reply, TELEGRAM)
    assert telegram == [OutMessage("Báo cáo tháng 11"), OutMessage("", file=xlsx)]
    zalo = _lay(reply, ZALO_OA)
    assert zalo[0] == OutMessage("Báo cáo tháng 11")
    link = zalo[1].file
    assert isinstance(link, FileLink) and link.file is xlsx
    assert link.label == "Tải bao-cao-thang-11.xlsx"
    assert "bao-cao-thang-11.xlsx" in zalo[1].text and "tải" in zalo[1].text
    csv = _lay(Reply(t(""), files=(File("ds.csv", b"a", "csv"),)), ZALO_OA)
    assert isinstance(csv[0].file, FileLink)


def test_images_over_the_channel_limit_are_flagged_for_downscaling() -> None:
    big = File("tien-do.png", b"\x89PNG" + b"\0" * (1024 * 1024), "png")
    small = File("tien-do.png", b"\x89PNG", "png")
    assert _lay(Reply(t(""), files=(big,)), ZALO_OA) == [OutMessage("", file=ImageTooLarge(big, 1024 * 1024))]
    assert _lay(Reply(t(""), files=(small,)), ZALO_OA) == [OutMessage("", file=small)]
    assert _lay(Reply(t(""), files=(big,)), TELEGRAM) == [OutMessage("", file=big)]


def test_captions_ride_with_the_file_where_the_channel_allows_it() -> None:
    chart = File("tien-do.png", b"\x89PNG", "png", caption=b("Tiến độ") + " xã <A>")
    assert _lay(Reply(t(""), files=(chart,)), TELEGRAM) == [
        OutMessage("<b>Tiến độ</b> xã &lt;A&gt;", file=chart)
    ]
    assert _lay(Reply(t(""), files=(chart,)), ZALO_OA) == [
        OutMessage("Tiến độ xã <A>"),
        OutMessage("", file=chart),
    ]
    long_caption = File("a.pdf", b"%PDF", "pdf", caption=t(_words(1500)))
    messages = _lay(Reply(t(""), files=(long_caption,)), TELEGRAM)
    assert [m.file for m in messages] == [None, long_caption]
    xlsx = File("a.xlsx", b"PK", "xlsx", caption=t("Danh sách"))
    zalo = _lay(Reply(t(""), files=(xlsx,)), ZALO_OA)
    assert [m.text for m in zalo][0] == "Danh sách" and isinstance(zalo[1].file, FileLink)


def test_order_is_text_then_button_pages_then_files() -> None:
    pdf = File("mau.pdf", b"%PDF", "pdf")
    messages = _lay(Reply(t("Mẫu đơn"), buttons=_menu(7), files=(pdf,)), ZALO_OA)
    assert [(m.text, len(m.buttons), m.file is not None) for m in messages] == [
        ("Mẫu đơn", 5, False),
        ("Chọn tiếp:", 2, False),
        ("", 0, True),
    ]


# ---- edits and phone requests --------------------------------------------------------------


def test_replace_pressed_edits_only_where_the_channel_can() -> None:
    reply = Reply(t(_words(5000)), buttons=_menu(2), replace_pressed=True)
    telegram = _lay(reply, TELEGRAM)
    assert [m.replace for m in telegram] == [True, False]
    assert all(not m.replace for m in _lay(reply, ZALO_OA))
    file_only = Reply(t(""), files=(File("a.pdf", b"", "pdf"),), replace_pressed=True)
    assert not _lay(file_only, TELEGRAM)[0].replace


def test_ask_phone_rides_on_the_last_text_message() -> None:
    reply = Reply(t(_words(3000)), ask_phone=True)
    assert [m.ask_phone for m in _lay(reply, ZALO_OA)] == [False, True]
    assert [m.ask_phone for m in _lay(reply, TELEGRAM)] == [True]
    mute = dataclasses.replace(ZALO_OA, can_ask_phone=False)
    with pytest.raises(ValueError, match="phone"):
        _lay(reply, mute)


def test_layout_is_deterministic() -> None:
    reply = Reply(paragraphs(_words(2500), b(_words(900))), buttons=_menu(12), files=(File("x.xlsx", b"", "xlsx"),))
    for caps in (TELEGRAM, ZALO_OA):
        assert _lay(reply, caps) == _lay(reply, caps)
