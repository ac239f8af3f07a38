"""Channel adapters add no words: no string in handlers/ (docstrings aside) holds Vietnamese.

Every sentence a person reads comes from bot/chat/texts, so it is written once for every
channel and reviewed in one place; an adapter only lays it out."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Letters only Vietnamese uses among the scripts we meet (with their capitals).
VIETNAMESE = re.compile(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", re.IGNORECASE)


def _docstrings(tree: ast.AST) -> set[int]:
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def _vietnamese_strings(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _docstrings(tree)
    return [
        f"{path.name}:{node.lineno}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip
        and VIETNAMESE.search(node.value)
    ]


def test_no_adapter_string_is_vietnamese() -> None:
    found = [hit for path in sorted((ROOT / "handlers").rglob("*.py")) for hit in _vietnamese_strings(path)]
    assert not found, f"Vietnamese text in a channel adapter (move it to bot/chat/texts): {found}"


def test_the_check_sees_a_sentence_but_not_a_docstring(tmp_path: Path) -> None:
    module = tmp_path / "example.py"
    module.write_text('"""Docstrings may quote "người"."""\nTEXT = "Không tìm thấy"\nOK = "ghi"\n', encoding="utf-8")
    assert _vietnamese_strings(module) == ["example.py:2"]
