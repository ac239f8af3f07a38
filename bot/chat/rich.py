"""Rich text written once, escaped by construction, rendered as Telegram HTML or Zalo plain text.

A `Rich` value is an immutable sequence of styled runs: each run is literal text plus a style
(bold, italic, code). Every `str` that enters a `Rich` is literal text; markup exists only as
styles, so a user's name, an address or a unit code can never inject a tag, and no reply needs
to remember to call an escape function. Renderers turn the runs into the channel's markup:

- `to_html`: Telegram's HTML parse mode. Only ``&``, ``<`` and ``>`` are escaped (the Bot API
  docs, "HTML style": all other characters are literal), styles become ``<b>``, ``<i>``,
  ``<code>``, always nested in that order and closed in each run, so any slice of runs renders
  balanced HTML on its own (`bot.chat.layout` splits long replies at this level for that reason).
- `to_plain`: Zalo OA text, which has no markup at all (ZALO.md §6.1: strip formatting). Styles
  are dropped and the words kept.

There is deliberately no link node: a Zalo OA/ZNS text may not carry links, and Telegram links
are only ever buttons (`bot.chat.model.Button(url=...)`), so both channels behave alike.

Why a flat list of runs and not a nested tree: nesting adds nothing the three styles need, and
flat runs make "split this reply into messages of at most N characters" a matter of cutting a
string, with no tag ever cut in half.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "BULLET",
    "Rich",
    "Run",
    "Style",
    "b",
    "code",
    "i",
    "items",
    "join",
    "lines",
    "paragraphs",
    "t",
    "to_html",
    "to_plain",
]

BULLET = "• "


@dataclass(frozen=True, slots=True)
class Style:
    """How a run is shown where the channel has markup; plain channels ignore it."""

    bold: bool = False
    italic: bool = False
    code: bool = False

    def merged(self, other: Style) -> Style:
        """The union of two styles (an inner `b()` inside an `i()` is bold and italic)."""
        return Style(self.bold or other.bold, self.italic or other.italic, self.code or other.code)


PLAIN = Style()


@dataclass(frozen=True, slots=True)
class Run:
    """Literal text with one style. `text` is never markup."""

    text: str
    style: Style = PLAIN


def _normalise(runs: Iterable[Run]) -> tuple[Run, ...]:
    """Drop empty runs and merge neighbours of equal style, so equal text compares equal."""
    out: list[Run] = []
    for run in runs:
        if not run.text:
            continue
        if out and out[-1].style == run.style:
            out[-1] = Run(out[-1].text + run.text, run.style)
        else:
            out.append(run)
    return tuple(out)


@dataclass(frozen=True, slots=True, init=False)
class Rich:
    """Immutable rich text: a normalised tuple of `Run`s. Build it with `t`, `b`, `i`, ... and `+`.

    `str(rich)` raises TypeError on purpose: a reply must be rendered for its channel with
    `to_html` or `to_plain`, never pasted into an f-string where its styles would be lost.
    """

    runs: tuple[Run, ...]

    def __init__(self, runs: Iterable[Run] = ()) -> None:
        object.__setattr__(self, "runs", _normalise(runs))

    @property
    def plain(self) -> str:
        """The text as a person reads it, with no markup (what `to_plain` returns)."""
        return "".join(run.text for run in self.runs)

    def __bool__(self) -> bool:
        return bool(self.runs)

    def __add__(self, other: str | Rich) -> Rich:
        if isinstance(other, str):
            return Rich((*self.runs, Run(other)))
        if isinstance(other, Rich):
            return Rich((*self.runs, *other.runs))
        return NotImplemented

    def __radd__(self, other: str) -> Rich:
        if isinstance(other, str):
            return Rich((Run(other), *self.runs))
        return NotImplemented

    def __str__(self) -> str:
        raise TypeError("Rich text must be rendered with to_html() or to_plain(), not str()")

    def slice(self, start: int, stop: int) -> Rich:
        """The runs covering `self.plain[start:stop]` (code-point offsets), styles kept."""
        out: list[Run] = []
        pos = 0
        for run in self.runs:
            end = pos + len(run.text)
            lo, hi = max(start, pos), min(stop, end)
            if lo < hi:
                out.append(Run(run.text[lo - pos : hi - pos], run.style))
            pos = end
            if pos >= stop:
                break
        return Rich(out)


def _rich(part: str | Rich) -> Rich:
    if isinstance(part, Rich):
        return part
    if isinstance(part, str):
        return Rich((Run(part),))
    raise TypeError(f"rich text accepts str or Rich, not {type(part).__name__}")


def _styled(parts: tuple[str | Rich, ...], style: Style) -> Rich:
    return Rich(Run(run.text, run.style.merged(style)) for part in parts for run in _rich(part).runs)


def t(*parts: str | Rich) -> Rich:
    """Literal text (every `str` is shown exactly as given), concatenated."""
    return _styled(parts, PLAIN)


def b(*parts: str | Rich) -> Rich:
    """Bold text (plain on channels without markup)."""
    return _styled(parts, Style(bold=True))


def i(*parts: str | Rich) -> Rich:
    """Italic text (plain on channels without markup)."""
    return _styled(parts, Style(italic=True))


def code(*parts: str | Rich) -> Rich:
    """Monospace text, e.g. a command or a BHXH code (plain on channels without markup)."""
    return _styled(parts, Style(code=True))


def join(separator: str | Rich, parts: Iterable[str | Rich]) -> Rich:
    """`separator.join(parts)` for rich text; the separator is literal text too."""
    sep = _rich(separator)
    out: list[Run] = []
    for n, part in enumerate(parts):
        if n:
            out.extend(sep.runs)
        out.extend(_rich(part).runs)
    return Rich(out)


def lines(*parts: str | Rich) -> Rich:
    """Parts on consecutive lines (joined by one newline)."""
    return join("\n", parts)


def paragraphs(*parts: str | Rich) -> Rich:
    """Parts as paragraphs (joined by a blank line, empty parts skipped so no stray blank lines);
    `bot.chat.layout` prefers to split long replies here."""
    return join("\n\n", (p for p in parts if _rich(p)))


def items(*parts: str | Rich, bullet: str = BULLET) -> Rich:
    """A bulleted list, one item per line; the bullet is literal text, the same on every channel."""
    return lines(*(bullet + _rich(part) for part in parts))


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_TAG_ORDER = ("b", "i", "code")  # fixed nesting order: code innermost (it may hold no entity)


def _tags(style: Style) -> list[str]:
    wanted = {"b": style.bold, "i": style.italic, "code": style.code}
    return [tag for tag in _TAG_ORDER if wanted[tag]]


def to_html(rich: Rich) -> str:
    """Telegram HTML parse mode. Guarantee: tags balance in every output, and only the tags
    b, i and code appear; text from any `str` is escaped, so it unescapes back to itself."""
    out: list[str] = []
    open_tags: list[str] = []
    for run in rich.runs:
        wanted = _tags(run.style)
        keep = 0
        while keep < min(len(open_tags), len(wanted)) and open_tags[keep] == wanted[keep]:
            keep += 1
        out.extend(f"</{tag}>" for tag in reversed(open_tags[keep:]))
        out.extend(f"<{tag}>" for tag in wanted[keep:])
        open_tags = wanted
        out.append(_escape(run.text))
    out.extend(f"</{tag}>" for tag in reversed(open_tags))
    return "".join(out)


def to_plain(rich: Rich) -> str:
    """Plain text for channels without markup (Zalo OA): the words, styles dropped."""
    return rich.plain
