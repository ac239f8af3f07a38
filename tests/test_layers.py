"""What each layer may import, checked on every module's imports (function-level ones too).

The rules are the map of docs/ARCHITECTURE.md: pure layers (domain, parsing, imports, reports)
import no storage, channel or service; services never a channel; the conversations never
storage or a channel; storage never a service or a conversation; the Zalo adapter never
Telegram; nothing in the product (bot, handlers, scheduler, storage) imports the development
package `devtools/` (emulators, demo, shared harness) or what only it needs (aiohttp, the `demo`
extra), so `pip install .` ships and needs neither. The development package, the tests and the
benchmarks may import anything.

`KNOWN` lists the imports that break a rule today: the unit importer that still loads through
the repositories. (Record types live in `bot.domain.records`, not in the SQLite repositories.) The rebuild removes them;
the test fails on any new one, and also when one disappears without leaving this list, so the
list can only shrink. One bootstrap (`bot.bootstrap`) builds the services, so the Telegram
adapter's `app.py` imports no storage, and services name only `storage.contract`.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "scheduler", "storage")
CHANNEL_LIBRARIES = ("telegram", "aiohttp")
DRIVERS = ("aiosqlite", "asyncpg", "sqlalchemy")

# layer -> what its modules must not import
RULES: dict[str, tuple[str, ...]] = {
    "bot.domain": ("storage", "handlers", "scheduler", "bot.services", "bot.chat", "bot.cli", "bot.imports",
                   "bot.reports", "devtools", *CHANNEL_LIBRARIES, *DRIVERS, "httpx"),
    "bot.parsing": ("storage", "handlers", "scheduler", "bot.services", "bot.chat", "bot.cli", "devtools",
                    *CHANNEL_LIBRARIES, *DRIVERS),
    "bot.imports": ("storage", "handlers", "scheduler", "bot.services", "bot.chat", "bot.cli", "devtools",
                    *CHANNEL_LIBRARIES, *DRIVERS),
    "bot.reports": ("storage", "handlers", "scheduler", "bot.services", "bot.chat", "bot.cli", "devtools",
                    *CHANNEL_LIBRARIES, *DRIVERS),
    "bot.services": ("handlers", "scheduler", "bot.chat", "bot.cli", "devtools", *CHANNEL_LIBRARIES),
    "bot.chat": ("storage", "handlers", "scheduler", "bot.cli", "devtools", *CHANNEL_LIBRARIES, *DRIVERS),
    "storage": ("bot.services", "bot.chat", "handlers", "scheduler", "bot.cli", "devtools",
                *CHANNEL_LIBRARIES),
    "scheduler": ("handlers", "devtools", "bot.cli", *CHANNEL_LIBRARIES),
    "handlers.telegram": ("devtools", "bot.cli", "handlers.zalo"),
    # the adapter's wiring takes its services from bot.bootstrap: it opens no storage itself
    "handlers.telegram.app": ("storage", *DRIVERS),
    "handlers.zalo": ("telegram", "handlers.telegram", "storage", "devtools", "bot.cli", *DRIVERS),
    "bot.settings": ("storage", "handlers", "scheduler", "bot.services", "bot.chat", "devtools",
                     *CHANNEL_LIBRARIES, *DRIVERS),
}
# These name storage only through its contract (storage.contract: the repositories' protocols and
# the Storage bundle), never an engine: a second engine changes nothing in them.
CONTRACT_ONLY = ("bot.services", "handlers.telegram")
# No module of the product may import these, at any level (function-level imports too): the
# development package and the libraries of the `demo` extra, absent from `pip install .`.
DEV_ONLY = ("devtools", "aiohttp", "tests", "bench")

KNOWN: frozenset[tuple[str, str]] = frozenset({
    # the unit/team importers still load through repositories and services (to split into
    # reading rows here and loading in bot.services)
    ("bot.imports.organisation", "storage.sqlite.targets"),
    ("bot.imports.organisation", "storage.sqlite.teams"),
    ("bot.imports.organisation", "storage.sqlite.units"),
    ("bot.imports.organisation", "bot.services.access"),
    ("bot.imports.organisation", "bot.services.organisation"),
})


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imported(path: Path) -> set[str]:
    """Every absolute module a file imports, anywhere in it (function-level too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(f"{prefix}.")


def _violations() -> set[tuple[str, str]]:
    broken: set[tuple[str, str]] = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            broken |= _breaks(_module_name(path), _imported(path))
    return broken


def _breaks(module: str, imported: set[str]) -> set[tuple[str, str]]:
    """The (module, forbidden import) pairs of one product module."""
    broken: set[tuple[str, str]] = set()
    for layer, banned in RULES.items():
        if not _within(module, layer):
            continue
        for name in imported:
            for prefix in banned:
                if _within(name, prefix):
                    broken.add((module, _as_module(name, prefix)))
    if any(_within(module, layer) for layer in CONTRACT_ONLY):
        broken |= {
            (module, _as_module(name, "storage"))
            for name in imported
            if _within(name, "storage") and not _within(name, "storage.contract")
        }
    broken |= {(module, prefix) for name in imported for prefix in DEV_ONLY if _within(name, prefix)}
    return broken


def _as_module(name: str, prefix: str) -> str:
    """`from storage.units import Unit` is reported as storage.units, not storage.units.Unit."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if (ROOT / Path(*parts[:end])).with_suffix(".py").exists() or (ROOT / Path(*parts[:end])).is_dir():
            return candidate
    return prefix


def test_no_layer_imports_what_it_must_not() -> None:
    new = _violations() - KNOWN
    assert not new, "layer rules broken (see docs/ARCHITECTURE.md): " + ", ".join(
        f"{a} imports {b}" for a, b in sorted(new)
    )


def test_the_known_exceptions_only_shrink() -> None:
    gone = KNOWN - _violations()
    assert not gone, "no longer imported, remove from KNOWN: " + ", ".join(f"{a} -> {b}" for a, b in sorted(gone))


def test_the_check_sees_a_broken_rule(tmp_path: Path) -> None:
    module = tmp_path / "example.py"
    module.write_text("from storage.sqlite.units import Unit\n\ndef f():\n    import telegram\n", encoding="utf-8")
    assert _imported(module) >= {"storage.sqlite.units", "storage.sqlite.units.Unit", "telegram"}


def test_the_product_never_imports_the_development_package(tmp_path: Path) -> None:
    """Any product module, the command line included, breaks the rule with even a lazy import of
    the development package or of aiohttp; no known exception may ever name them."""
    assert (ROOT / "devtools" / "__init__.py").exists() and not (ROOT / "bot" / "devtools" / "__init__.py").exists()
    module = tmp_path / "lazy.py"
    module.write_text("def demo():\n    from devtools.demo.session import run_demo\n    import aiohttp\n",
                      encoding="utf-8")
    for product in ("bot.cli", "scheduler.jobs", "handlers.telegram.app", "storage.sqlite.db", "bot.domain.money"):
        assert {(product, "devtools"), (product, "aiohttp")} <= _breaks(product, _imported(module))
    assert not {b for _, b in KNOWN if any(_within(b, p) for p in DEV_ONLY)}


def test_services_and_the_telegram_adapter_may_name_only_the_storage_contract(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The contract-only rule sees an engine's module named by a service or by the adapter."""
    for package, body in {
        "bot/services": "from storage.contract import UnitStore\nfrom storage.sqlite.units import UnitRepository\n",
        "handlers/telegram": "from storage.contract import SessionStore\n",
        "storage": "",
    }.items():
        (tmp_path / package).mkdir(parents=True)
        (tmp_path / package / "example.py").write_text(body, encoding="utf-8")
    (tmp_path / "storage" / "sqlite").mkdir()
    (tmp_path / "storage" / "sqlite" / "units.py").write_text("", encoding="utf-8")
    (tmp_path / "storage" / "contract.py").write_text("", encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    monkeypatch.setattr(sys.modules[__name__], "PACKAGES", ("bot", "handlers"))
    assert _violations() == {("bot.services.example", "storage.sqlite.units")}
