"""Nothing defaults to Telegram: the channel comes from the person, on every path.

Read from the syntax trees of the product packages that must be channel-neutral (`bot` without
its development tools, `scheduler`, `storage`, `handlers/zalo`), so comments and docstrings that
mention Telegram are not counted and a literal cannot hide behind formatting:

- no module imports python-telegram-bot (`import telegram`, `from telegram... import`);
- no string constant names the channel: "telegram" (a parameter or field default, a keyword
  argument, a comparison, a mapping key) nor an SQL literal 'telegram' inside a query. Names
  are case-sensitive ids; "Telegram" in a sentence for people, or the constant TELEGRAM, is
  not the channel's id.

Allowed, and listed here so the list can only shrink: the one place the channel's name is
defined (`bot.chat.model.TELEGRAM = Capabilities(name=...)`), and the python-telegram-bot
library's logger and module names in the log-privacy code (a library, not a channel).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCANNED = ("bot", "scheduler", "storage", "handlers/zalo")
CHANNEL = "telegram"

# module -> why it may hold the string "telegram" (each must still hold it: the list only shrinks)
LIBRARY_NAMES: dict[str, str] = {
    "bot/logsafety.py": "python-telegram-bot's logger names and InvalidToken's module, by name",
    "bot/cli/__init__.py": "python-telegram-bot's logger name, held at INFO",
}


def _files() -> list[Path]:
    found: list[Path] = []
    for package in SCANNED:
        found.extend(sorted((ROOT / package).rglob("*.py")))
    return found


def _is_channel_definition(node: ast.Constant, parents: dict[ast.AST, ast.AST]) -> bool:
    """`Capabilities(name="telegram", ...)`: where the channel's name is defined, once."""
    keyword = parents.get(node)
    call = parents.get(keyword) if isinstance(keyword, ast.keyword) else None
    return (
        isinstance(keyword, ast.keyword)
        and keyword.arg == "name"
        and isinstance(call, ast.Call)
        and isinstance(call.func, ast.Name)
        and call.func.id == "Capabilities"
    )


def violations(source: str, name: str) -> list[str]:
    """What in `source` (the module at `name`) imports Telegram or names the channel."""
    tree = ast.parse(source)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [f"{name}:{node.lineno} imports {a.name}" for a in node.names
                      if a.name == CHANNEL or a.name.startswith(CHANNEL + ".")]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == CHANNEL or node.module.startswith(CHANNEL + "."):
                found.append(f"{name}:{node.lineno} imports from {node.module}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            value = node.value
            named = value.strip() == CHANNEL or f"'{CHANNEL}'" in value
            if named and not _is_channel_definition(node, parents):
                found.append(f"{name}:{node.lineno} names the channel: {value[:60]!r}")
    return found


def _library_only(path: str, found: list[str]) -> list[str]:
    """The allowed library names: only plain "telegram" strings, never an import."""
    if path not in LIBRARY_NAMES:
        return found
    return [entry for entry in found if " imports " in entry]


def test_no_product_module_imports_telegram_or_defaults_to_it() -> None:
    broken: list[str] = []
    for path in _files():
        relative = path.relative_to(ROOT).as_posix()
        broken += _library_only(relative, violations(path.read_text(encoding="utf-8"), relative))
    assert not broken, "the channel must come from the person:\n" + "\n".join(broken)


def test_the_allowed_library_names_only_shrink() -> None:
    for relative in LIBRARY_NAMES:
        path = ROOT / relative
        assert path.exists() and violations(path.read_text(encoding="utf-8"), relative), (
            f"{relative} no longer names the library: remove it from LIBRARY_NAMES"
        )


def test_the_check_sees_each_kind_of_default() -> None:
    sample = '''
import telegram.ext
from telegram import Bot

async def actor(user_id: int, channel: str = "telegram") -> None:
    """Defaults to "telegram" in a docstring: not code, and not counted alone."""
    # channel = "telegram" in a comment is not code either

@dataclass
class Actor:
    channel: str | None = "telegram"

def query() -> str:
    other(channel="telegram")
    return "SELECT 1 FROM members WHERE channel = 'telegram'"

TELEGRAM = Capabilities(name="telegram")
'''
    found = violations(sample, "sample.py")
    lines = sorted(int(entry.split(":")[1].split()[0]) for entry in found)
    # import, from-import, the default, the field default, the keyword, the SQL literal;
    # the docstring only mentions the word, and the Capabilities definition is allowed
    assert lines == [2, 3, 5, 11, 14, 15], found
