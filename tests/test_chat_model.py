"""bot/chat/model.py: values validate themselves; the two channels' capabilities; purity."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest

from bot.chat.model import (
    TELEGRAM,
    ZALO_ACTION_PREFIX,
    ZALO_OA,
    Blocked,
    Button,
    Capabilities,
    Command,
    Delivered,
    DocumentIn,
    File,
    ForeignContact,
    Incoming,
    Person,
    PhoneShared,
    Press,
    Refused,
    Reply,
    RetryAfter,
    Sender,
    SendResult,
    Text,
    Unknown,
    Unsupported,
)
from bot.chat.rich import b, t

CHAT_DIR = Path(__file__).resolve().parent.parent / "bot" / "chat"
ZALO_UID = "4839261750192837465"  # 19 digits, as Zalo user ids are


def test_person_ids_are_strings_and_people_are_values() -> None:
    person = Person("zalo_oa", ZALO_UID)
    assert person == Person("zalo_oa", ZALO_UID)
    assert person != Person("telegram", ZALO_UID)
    assert len({person, Person("zalo_oa", ZALO_UID)}) == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        person.id = "1"  # type: ignore[misc]
    with pytest.raises(ValueError, match="str"):
        Person("telegram", 12345)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Person("", "1")
    with pytest.raises(ValueError):
        Person("telegram", "")


def _describe(event: Incoming) -> str:
    """Every Incoming kind is matched by type (the union a flow dispatches on)."""
    match event:
        case Text(text=text):
            return f"text:{text}"
        case Command(name=name, args=args):
            return f"command:{name}:{','.join(args)}"
        case Press(payload=payload):
            return f"press:{payload}"
        case PhoneShared(phone=phone):
            return f"phone:{phone}"
        case DocumentIn(filename=name, size=size):
            return f"doc:{name}:{size}"
        case ForeignContact():
            return "foreign-contact"
        case Unsupported(kind=kind):
            return f"unsupported:{kind}"


async def _fetch_pk() -> bytes:
    return b"PK"


def test_incoming_events_are_frozen_and_matchable() -> None:
    p = Person("telegram", "42")
    events: list[Incoming] = [
        Text(p, "bhyt 3 người"),
        Command(p, "giabhyt", ("3", "12")),
        Press(p, "q:h:3"),
        PhoneShared(p, "84901234567"),
        DocumentIn(p, "ds.xlsx", 2, _fetch_pk),
        ForeignContact(p),
        Unsupported(p, "sticker"),
    ]
    assert [_describe(e) for e in events] == [
        "text:bhyt 3 người",
        "command:giabhyt:3,12",
        "press:q:h:3",
        "phone:84901234567",
        "doc:ds.xlsx:2",
        "foreign-contact",
        "unsupported:sticker",
    ]
    assert Command(p, "start").args == ()
    for event in events:
        with pytest.raises(dataclasses.FrozenInstanceError):
            event.person = Person("zalo_oa", ZALO_UID)  # type: ignore[misc]


def test_button_needs_exactly_one_target_and_a_label() -> None:
    assert Button("Có", payload="y").payload == "y"
    assert Button("Mở", url="https://example.org/x").url == "https://example.org/x"
    with pytest.raises(ValueError, match="exactly one"):
        Button("Có")
    with pytest.raises(ValueError, match="exactly one"):
        Button("Có", payload="y", url="https://example.org")
    with pytest.raises(ValueError, match="label"):
        Button("  ", payload="y")
    with pytest.raises(ValueError, match="payload"):
        Button("Có", payload="")
    with pytest.raises(ValueError, match="url"):
        Button("Mở", url="javascript:alert(1)")


def test_file_name_matches_its_kind() -> None:
    chart = File("tien-do.png", b"\x89PNG", "png", caption=b("Tiến độ"))
    assert chart.kind == "png" and chart.caption == b("Tiến độ")
    assert File("BAO-CAO.XLSX", b"PK", "xlsx").caption is None
    with pytest.raises(ValueError, match=r"\.xlsx"):
        File("bao-cao.csv", b"", "xlsx")
    with pytest.raises(ValueError, match=r"\.png"):
        File(".png", b"", "png")
    with pytest.raises(ValueError, match="kind"):
        File("a.exe", b"", "exe")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="bare"):
        File("../a.csv", b"", "csv")


def test_reply_validates_what_no_channel_could_send() -> None:
    reply = Reply(t("Chọn:"), buttons=((Button("A", payload="a"), Button("B", payload="b")),))
    assert reply.flat_buttons == (Button("A", payload="a"), Button("B", payload="b"))
    assert Reply(t(""), files=(File("a.png", b"", "png"),)).text == t("")
    with pytest.raises(TypeError, match="Rich"):
        Reply("chào")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="text or a file"):
        Reply(t("  \n"))
    with pytest.raises(ValueError, match="empty row"):
        Reply(t("x"), buttons=((),))
    with pytest.raises(ValueError, match="ask_phone"):
        Reply(t("x"), buttons=((Button("A", payload="a"),),), ask_phone=True)
    with pytest.raises(ValueError, match="ask_phone"):
        Reply(t(""), files=(File("a.png", b"", "png"),), ask_phone=True)


def test_capabilities_of_the_two_channels() -> None:
    assert (TELEGRAM.max_text, TELEGRAM.markup, TELEGRAM.max_payload_bytes) == (4096, "html", 64)
    assert (TELEGRAM.max_buttons_per_message, TELEGRAM.max_buttons_per_row) == (100, 8)
    assert TELEGRAM.file_kinds == {"png", "xlsx", "pdf", "csv"} and TELEGRAM.can_edit
    assert TELEGRAM.max_caption == 1024
    assert (ZALO_OA.max_text, ZALO_OA.markup) == (2000, "plain")
    assert (ZALO_OA.max_buttons_per_message, ZALO_OA.max_buttons_per_row) == (5, 1)
    assert ZALO_OA.max_payload_bytes + len(ZALO_ACTION_PREFIX) == 1000
    assert ZALO_OA.max_label_chars == 100
    assert ZALO_OA.file_kinds == {"png", "pdf"} and ZALO_OA.max_image_bytes == 1024 * 1024
    assert not ZALO_OA.can_edit and ZALO_OA.can_ask_phone and ZALO_OA.max_caption == 0
    with pytest.raises(ValueError):
        dataclasses.replace(ZALO_OA, max_text=0)
    with pytest.raises(ValueError):
        dataclasses.replace(ZALO_OA, file_kinds=frozenset({"docx"}))


def test_send_results_are_distinct_values() -> None:
    results: list[SendResult] = [Delivered("m1"), Blocked(), RetryAfter(3.0), Refused("-213"), Unknown("timeout")]
    assert Delivered() == Delivered(None) != Delivered("m1")
    assert len({type(r) for r in results}) == 5


class _RecordingSender:
    """A minimal channel: proves the Protocol is satisfiable by a plain class."""

    def __init__(self) -> None:
        self.sent: list[tuple[Person, Reply]] = []

    @property
    def capabilities(self) -> Capabilities:
        return ZALO_OA

    async def send(self, person: Person, reply: Reply) -> SendResult:
        self.sent.append((person, reply))
        return Delivered(str(len(self.sent)))


async def test_a_sender_reports_a_result() -> None:
    sender: Sender = _RecordingSender()
    person = Person("zalo_oa", ZALO_UID)
    assert await sender.send(person, Reply(t("Nhắc gia hạn thẻ BHYT"))) == Delivered("1")
    assert sender.capabilities is ZALO_OA


def test_bot_chat_imports_no_channel_storage_or_handler() -> None:
    """The neutral primitives stay neutral: stdlib, pydantic and bot.chat only. (The flows
    and their texts in bot/chat use the domain too; the layer test checks those.)"""
    allowed_roots = {"__future__", "bisect", "collections", "dataclasses", "itertools", "typing"}
    allowed_roots |= {"unicodedata", "pydantic"}
    names = ("model.py", "rich.py", "layout.py", "texts/common.py", "__init__.py", "texts/__init__.py")
    files = [CHAT_DIR / name for name in names]
    assert all(path.exists() for path in files)
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                assert node.level == 0, f"{path.name}: use absolute imports"
                names = [node.module or ""]
            else:
                continue
            for name in names:
                root = name.split(".")[0]
                assert root in allowed_roots or name.startswith("bot.chat"), f"{path.name} imports {name}"
