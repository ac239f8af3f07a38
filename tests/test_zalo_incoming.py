"""Zalo events as neutral Incoming values (handlers/zalo/worker.to_incoming), and the PNG shrinker."""

from __future__ import annotations

import json

from bot.chat.model import Command, ForeignContact, Person, PhoneShared, Press, Text, Unsupported
from handlers.zalo.events import parse_event
from handlers.zalo.render import shrink_png
from handlers.zalo.worker import to_incoming

ME = Person("zalo_oa", "111")  # the core's channel name (bot.chat.model.ZALO_OA)


def _text(text: str) -> object:
    body = {"app_id": "1", "event_name": "user_send_text", "sender": {"id": "111"},
            "message": {"msg_id": "m1", "text": text}, "timestamp": "1"}
    event = parse_event(json.dumps(body).encode())
    assert event is not None
    return to_incoming(event, body)


def test_texts_commands_and_presses() -> None:
    assert _text("#a:cost:3") == Press(ME, "cost:3")
    assert _text("#a:") == Text(ME, "#a:")
    assert _text("/BHYT 3 người") == Command(ME, "bhyt", ("3", "người"))
    assert _text("  /help  ") == Command(ME, "help", ())
    assert _text("/") == Text(ME, "/")
    assert _text("/ giá") == Text(ME, "/ giá")
    assert _text("1/2 tháng") == Text(ME, "1/2 tháng")
    assert _text("0912345678") == Text(ME, "0912345678")


def test_a_phone_is_shared_only_by_its_own_valid_submission() -> None:
    def submit(phone: str, about: str | None = "111") -> object:
        body = {"app_id": "1", "event_name": "user_submit_info", "sender": {"id": "111"},
                "info": {"name": "An", "phone": phone}, "timestamp": "1"}
        if about is not None:
            body["user_id_by_app"] = about
        event = parse_event(json.dumps(body).encode())
        assert event is not None
        return to_incoming(event, body)

    assert submit("84912345678") == PhoneShared(ME, "84912345678")
    assert submit("0912345678", about=None) == PhoneShared(ME, "84912345678")
    assert submit("84912345678", about="222") == ForeignContact(ME)
    assert submit("12345") == Unsupported(ME, "contact")


def test_receipts_and_unfollows_involve_no_conversation() -> None:
    for body in (
        {"app_id": "1", "event_name": "unfollow", "follower": {"id": "111"}, "timestamp": "1"},
        {"app_id": "1", "event_name": "user_received_message", "message": {"msg_ids": ["a"]}, "timestamp": "1"},
    ):
        event = parse_event(json.dumps(body).encode())
        assert event is not None and to_incoming(event, body) is None


def test_shrink_png_refuses_what_is_not_an_image() -> None:
    assert shrink_png(b"%PDF-1.4 not an image", 1000) is None
