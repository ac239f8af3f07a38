"""bot/chat/rich.py: text is literal by construction; HTML balances; plain text is the words."""

from __future__ import annotations

import dataclasses
import html
from html.parser import HTMLParser

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.chat.rich import BULLET, Rich, b, code, i, items, join, lines, paragraphs, t, to_html, to_plain
from devtools.telegram_emulator import parse_html as telegram_parse_html


class _Checker(HTMLParser):
    """Records tags and text; fails on any tag other than b/i/code or on an unbalanced close."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.text: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        assert attrs == [], f"unexpected attributes on <{tag}>"
        self.tags.append(tag)
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack}"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raise AssertionError(f"unexpected <{tag}/>")

    def handle_comment(self, data: str) -> None:
        raise AssertionError("unexpected comment")

    def handle_decl(self, decl: str) -> None:
        raise AssertionError("unexpected declaration")

    def handle_pi(self, data: str) -> None:
        raise AssertionError("unexpected processing instruction")


def check_html(markup: str) -> tuple[str, list[str]]:
    """Parse `markup` with html.parser: tags must be b/i/code and balanced. Returns the visible
    text and the tags opened, in order."""
    checker = _Checker()
    checker.feed(markup)
    checker.close()
    assert checker.stack == [], f"unclosed tags {checker.stack} in {markup!r}"
    assert set(checker.tags) <= {"b", "i", "code"}
    return "".join(checker.text), checker.tags


# Text people type, including markup-looking and entity-looking strings.
user_text = st.text() | st.sampled_from(
    ["<b>x</b>", "</b>", "&amp;", "&lt;", "a & b", "<script>", "&#60;", "<<>>", "&", "Tô Thị Ánh"]
)


@given(user_text)
def test_literal_text_unescapes_to_itself_and_injects_no_tag(s: str) -> None:
    rendered = to_html(t(s))
    assert html.unescape(rendered) == s
    assert "<" not in rendered and ">" not in rendered
    assert check_html(rendered) == (s, [])
    assert to_plain(t(s)) == s


@given(user_text)
def test_styled_user_text_gets_exactly_our_tags(s: str) -> None:
    for make, tag in ((b, "b"), (i, "i"), (code, "code")):
        rendered = to_html(make(s))
        expected = f"<{tag}>{html.escape(s, quote=False)}</{tag}>" if s else ""
        assert rendered == expected
        assert check_html(rendered) == (s, [tag] if s else [])
        assert to_plain(make(s)) == s


def _rich_trees() -> st.SearchStrategy[Rich]:
    leaves = user_text.map(t)
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.tuples(inner, inner).map(lambda p: p[0] + p[1]),
            inner.map(b),
            inner.map(i),
            inner.map(code),
            st.lists(inner, max_size=4).map(lambda ps: lines(*ps)),
            st.lists(inner, max_size=4).map(lambda ps: items(*ps)),
        ),
        max_leaves=12,
    )


@given(_rich_trees())
def test_any_tree_renders_balanced_html_whose_text_is_the_plain_text(rich: Rich) -> None:
    rendered = to_html(rich)
    visible, _ = check_html(rendered)
    assert visible == to_plain(rich) == rich.plain


@given(_rich_trees())
def test_telegram_parses_every_tree_to_the_plain_text(rich: Rich) -> None:
    """The project's Telegram emulator parses HTML as Telegram does (it trims ends, as Telegram)."""
    if not rich.plain.strip():
        return
    visible, _ = telegram_parse_html(to_html(rich))
    assert visible == rich.plain.strip()


def test_nesting_is_b_then_i_then_code_and_tags_reopen_only_when_needed() -> None:
    rich = t("Chào ") + b("<Anh> & ", i("em"), code("x")) + i("y") + code("z")
    assert to_html(rich) == "Chào <b>&lt;Anh&gt; &amp; <i>em</i><code>x</code></b><i>y</i><code>z</code>"
    assert to_plain(rich) == "Chào <Anh> & emxyz"
    assert to_html(i(b("x"))) == "<b><i>x</i></b>"


def test_concatenation_with_strings_on_either_side_keeps_strings_literal() -> None:
    rich = "<i>" + b("đậm") + " & xong"
    assert isinstance(rich, Rich)
    assert to_html(rich) == "&lt;i&gt;<b>đậm</b> &amp; xong"
    with pytest.raises(TypeError):
        _ = b("x") + 5  # type: ignore[operator]
    with pytest.raises(TypeError):
        t(5)  # type: ignore[arg-type]


def test_equal_text_compares_equal_however_it_was_built() -> None:
    assert t("a") + t("b") == t("ab") == t("a", "b") == t("", "ab", "")
    assert b("a") + b("b") == b("ab")
    assert b("a") != t("a")
    assert not t("") and t(" ")


def test_join_lines_paragraphs_items() -> None:
    assert to_plain(join(", ", ["a", b("b"), "c"])) == "a, b, c"
    assert to_html(join(b("|"), ["<", ">"])) == "&lt;<b>|</b>&gt;"
    assert to_plain(lines("một", "hai")) == "một\nhai"
    assert to_plain(paragraphs("một", "", t(""), "hai")) == "một\n\nhai"
    assert to_plain(items("BHYT", b("BHXH"))) == f"{BULLET}BHYT\n{BULLET}BHXH"
    assert to_html(items("<x>", bullet="- ")) == "- &lt;x&gt;"
    assert join("x", []) == t("")


def test_str_and_fstring_refuse_so_styles_are_never_lost_silently() -> None:
    with pytest.raises(TypeError, match="to_html"):
        str(b("x"))
    with pytest.raises(TypeError):
        f"{b('x')}"  # noqa: B018


def test_rich_is_immutable() -> None:
    rich = b("x")
    with pytest.raises(dataclasses.FrozenInstanceError):
        rich.runs = ()  # type: ignore[misc]


def test_slice_keeps_styles_across_runs() -> None:
    rich = t("ab") + b("cd") + i("ef")
    assert rich.slice(1, 5) == t("b") + b("cd") + i("e")
    assert rich.slice(2, 4) == b("cd")
    assert rich.slice(3, 3) == t("")


@given(_rich_trees(), st.integers(0, 40), st.integers(0, 40))
def test_slice_is_the_slice_of_the_plain_text(rich: Rich, start: int, stop: int) -> None:
    assert rich.slice(start, stop).plain == rich.plain[start:stop]
