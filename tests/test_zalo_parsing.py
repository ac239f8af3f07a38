"""Zalo transport pieces that need no network: signature checks, event parsing and inbox keys,
phone normalisation, the error-code table, the config, and the package's layer rules."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.settings import Settings, SettingsError, load_settings
from handlers.zalo.errors import (
    OA_CODES,
    OAUTH_CODES,
    ZNS_CODES,
    Api,
    ErrorClass,
    classify,
    classify_http_status,
)
from handlers.zalo.events import (
    Follow,
    OaReceipt,
    OtherEvent,
    SubmitInfo,
    TextMessage,
    Unfollow,
    Unsupported,
    ZnsReceipt,
    event_key,
    parse_event,
)
from handlers.zalo.phone import normalise_phone
from handlers.zalo.signature import Rejected, Verified, verify

APP_ID = "1846293017365428190"
OA_SECRET = "oa-secret-key"
VECTOR_BODY = b'{"app_id":"1846293017365428190","event_name":"user_send_text","timestamp":"1764558000000"}'
VECTOR_TS = 1764558000000
# printf '%s' '<app_id><body><timestamp><oa secret>' | sha256sum
VECTOR_HEX = "f5e16470aaddf09ab6e9a1c71f0958f193f479ee8e1aa8c25d045518caa80878"


def check(body: bytes, header: str | None, now_ms: int = VECTOR_TS, **kw: object) -> Verified | Rejected:
    return verify(body, header, app_id=APP_ID, oa_secret_key=OA_SECRET, now_ms=now_ms, **kw)  # type: ignore[arg-type]


# ---- signature ------------------------------------------------------------------------------


def test_hand_computed_vector_in_both_header_styles() -> None:
    assert check(VECTOR_BODY, VECTOR_HEX) == Verified(VECTOR_TS)
    assert check(VECTOR_BODY, "mac=" + VECTOR_HEX) == Verified(VECTOR_TS)
    assert check(VECTOR_BODY, "MAC=" + VECTOR_HEX.upper()) == Verified(VECTOR_TS)


def test_refusals_and_their_reasons() -> None:
    flipped = VECTOR_HEX[:-1] + ("0" if VECTOR_HEX[-1] != "0" else "1")
    assert check(VECTOR_BODY, None) == Rejected("missing_signature")
    assert check(VECTOR_BODY, "") == Rejected("missing_signature")
    assert check(VECTOR_BODY, "mac=xyz") == Rejected("malformed_signature")
    assert check(VECTOR_BODY, flipped) == Rejected("bad_signature")
    # signed with the app secret instead of the OA secret
    assert verify(VECTOR_BODY, VECTOR_HEX, app_id=APP_ID, oa_secret_key="app-secret-key", now_ms=VECTOR_TS) == Rejected(
        "bad_signature"
    )
    # one byte of the body changed (a space added): the raw bytes are what is signed
    assert check(VECTOR_BODY.replace(b",", b", ", 1), VECTOR_HEX) == Rejected("bad_signature")
    assert verify(VECTOR_BODY, VECTOR_HEX, app_id="999", oa_secret_key=OA_SECRET, now_ms=VECTOR_TS) == Rejected(
        "app_id_mismatch"
    )
    no_ts = b'{"app_id":"1846293017365428190","event_name":"follow"}'
    assert check(no_ts, VECTOR_HEX) == Rejected("missing_timestamp")
    assert check(b"not json", VECTOR_HEX) == Rejected("malformed_body")
    assert check(b"[]", VECTOR_HEX) == Rejected("malformed_body")


def test_replay_window_edges() -> None:
    window_ms = 300_000
    assert check(VECTOR_BODY, VECTOR_HEX, now_ms=VECTOR_TS + window_ms) == Verified(VECTOR_TS)
    assert check(VECTOR_BODY, VECTOR_HEX, now_ms=VECTOR_TS + window_ms + 1) == Rejected("stale")
    assert check(VECTOR_BODY, VECTOR_HEX, now_ms=VECTOR_TS - window_ms) == Verified(VECTOR_TS)
    assert check(VECTOR_BODY, VECTOR_HEX, now_ms=VECTOR_TS - window_ms - 1) == Rejected("future")
    assert check(VECTOR_BODY, VECTOR_HEX, now_ms=VECTOR_TS + 61_000, window_s=60) == Rejected("stale")


@settings(max_examples=120, deadline=None)
@given(body=st.binary(max_size=300), header=st.one_of(st.none(), st.text(max_size=80)), now=st.integers(-(2**70), 2**70))
def test_verify_never_raises_on_garbage(body: bytes, header: str | None, now: int) -> None:
    result = verify(body, header, app_id=APP_ID, oa_secret_key=OA_SECRET, now_ms=now)
    assert isinstance(result, Rejected)  # a random body cannot carry a valid signature


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=120, deadline=None)
@given(
    fields=st.dictionaries(
        st.sampled_from(["app_id", "timestamp", "event_name", "message", "sender", "info", "x"]), json_values
    ),
    mac=st.booleans(),
)
def test_verify_never_raises_on_hostile_json(fields: dict[str, object], mac: bool) -> None:
    body = json.dumps(fields).encode()
    result = verify(body, ("mac=" if mac else "") + VECTOR_HEX, app_id=APP_ID, oa_secret_key=OA_SECRET, now_ms=0)
    assert isinstance(result, Rejected)


# ---- events ---------------------------------------------------------------------------------

BASE = {"app_id": APP_ID, "timestamp": "1796094000000", "user_id_by_app": "u-app"}


def raw(**fields: object) -> bytes:
    return json.dumps({**BASE, **fields}).encode()


def test_text_and_query_button_payload() -> None:
    event = parse_event(
        raw(event_name="user_send_text", sender={"id": "U1"}, recipient={"id": "OA"}, message={"msg_id": "m1", "text": "#a:menu.cost"})
    )
    assert isinstance(event, TextMessage)
    assert (event.sender_id, event.msg_id, event.text, event.timestamp) == ("U1", "m1", "#a:menu.cost", 1796094000000)
    assert event.action_id == "menu.cost"
    plain = parse_event(raw(event_name="user_send_text", sender={"id": "U1"}, message={"msg_id": "m2", "text": "hello"}))
    assert isinstance(plain, TextMessage) and plain.action_id is None
    assert event_key(event) == "user_send_text:m1"


def test_follow_unfollow_and_submit_info() -> None:
    follow = parse_event(raw(event_name="follow", oa_id="OA", follower={"id": "U2"}, source="oa_profile"))
    assert isinstance(follow, Follow) and follow.sender_id == "U2"
    assert event_key(follow) == "follow:U2:1796094000000"
    unfollow = parse_event(raw(event_name="unfollow", follower={"id": "U2"}))
    assert isinstance(unfollow, Unfollow)
    assert isinstance(parse_event(raw(event_name="user_follow", follower={"id": "U2"})), Follow)
    assert isinstance(parse_event(raw(event_name="user_unfollow", follower={"id": "U2"})), Unfollow)
    info = parse_event(
        raw(
            event_name="user_submit_info",
            sender={"id": "U3"},
            recipient={"id": "OA"},
            info={"name": "Nguyễn Văn An", "phone": "84912345678", "address": "", "city": "Trà Vinh", "district": "", "ward": ""},
        )
    )
    assert isinstance(info, SubmitInfo)
    assert (info.sender_id, info.name, info.phone, info.city) == ("U3", "Nguyễn Văn An", "84912345678", "Trà Vinh")
    assert "912345678" not in repr(info) and "912345678" not in str(info)
    odd = parse_event(raw(event_name="user_submit_info", sender={"id": "U3"}, info={"name": "X", "phone": "12"}))
    assert isinstance(odd, SubmitInfo) and odd.phone is None
    assert event_key(info) == "user_submit_info:U3:1796094000000"


def test_unsupported_and_other_events() -> None:
    for name in ("user_send_image", "user_send_sticker", "user_send_audio", "user_send_location"):
        event = parse_event(raw(event_name=name, sender={"id": "U4"}, message={"msg_id": "m9", "attachments": []}))
        assert isinstance(event, Unsupported) and event.sender_id == "U4"
        assert event_key(event) == f"{name}:m9"
    seen = parse_event(raw(event_name="user_seen_message", sender={"id": "OA"}, message={"msg_ids": ["a"]}))
    assert isinstance(seen, OtherEvent)


def test_received_message_oa_vs_zns_nested_and_flat() -> None:
    oa = parse_event(raw(event_name="user_received_message", sender={"id": "OA"}, recipient={"id": "U5"}, message={"msg_ids": ["b", "a"]}))
    assert isinstance(oa, OaReceipt) and oa.msg_ids == ("b", "a") and oa.user_id == "U5"
    assert event_key(oa) == "user_received_message:a,b"
    nested = parse_event(
        raw(
            event_name="user_received_message",
            sender={"id": "OA"},
            recipient={"id": "84912345678"},
            message={"msg_id": "z1", "tracking_id": "outbox-7", "delivery_time": "1796094001000"},
        )
    )
    flat = parse_event(
        raw(event_name="user_received_message", sender="OA", recipient="84912345678", msg_id="z1", tracking_id="outbox-7", delivery_time="1796094001000")
    )
    for event in (nested, flat):
        assert isinstance(event, ZnsReceipt)
        assert (event.msg_id, event.tracking_id, event.delivery_time) == ("z1", "outbox-7", 1796094001000)
        assert event_key(event) == "user_received_message:z1"


def test_malformed_events_are_none() -> None:
    for body in (
        b"",
        b"null",
        b"[1,2]",
        b"\xff\xfe",
        raw(event_name="user_send_text", sender={"id": "U"}, message={"text": "no msg id"}),
        raw(event_name="user_send_text", message={"msg_id": "m", "text": "no sender"}),
        raw(event_name="user_send_text", sender={"id": "U"}, message={"msg_id": "m", "text": 5}),
        json.dumps({"event_name": "follow", "follower": {"id": "U"}}).encode(),  # no app_id/timestamp
        raw(event_name=7),
    ):
        assert parse_event(body) is None, body


@settings(max_examples=120, deadline=None)
@given(
    fields=st.dictionaries(
        st.sampled_from(
            ["app_id", "timestamp", "event_name", "message", "sender", "recipient", "info", "follower", "msg_id", "delivery_time", "tracking_id"]
        ),
        json_values,
    ),
    name=st.sampled_from(
        ["user_send_text", "follow", "unfollow", "user_submit_info", "user_send_image", "user_received_message", "whatever"]
    ),
)
def test_parse_event_never_raises(fields: dict[str, object], name: str) -> None:
    fields = {**fields, "event_name": name} if fields.get("event_name") is None else fields
    event = parse_event(json.dumps(fields).encode())
    if event is not None:
        assert isinstance(event_key(event), str)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_parse_event_never_raises_on_bytes(body: bytes) -> None:
    parse_event(body)


# ---- phone numbers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw_phone", "expected"),
    [
        ("0912345678", "84912345678"),
        ("+84912345678", "84912345678"),
        ("84912345678", "84912345678"),
        ("912345678", "84912345678"),
        ("091 234 5678", "84912345678"),
        ("0912.345.678", "84912345678"),
        ("+84 91-234-5678", "84912345678"),
        ("(091) 234 5678", "84912345678"),
        ("0352000111", "84352000111"),
        ("0212345678", None),  # landline range
        ("091234567", None),  # 9 digits starting with 0
        ("09123456789", None),
        ("+1912345678", None),
        ("0912abc678", None),
        ("", None),
        ("０９１２３４５６７８", None),  # full-width digits are not accepted silently
    ],
)
def test_phone_normalisation(raw_phone: str, expected: str | None) -> None:
    assert normalise_phone(raw_phone) == expected


def test_phone_normalisation_of_non_strings() -> None:
    assert normalise_phone(None) is None
    assert normalise_phone(912345678) is None


# ---- error table ----------------------------------------------------------------------------


def test_every_code_of_the_research_brief_is_classified() -> None:
    """Codes named in ZALO.md §2-§3 (copied here: the brief is not read at test time)."""
    oa = {-216: ErrorClass.REFRESH_TOKEN, 216: ErrorClass.REFRESH_TOKEN, -401: ErrorClass.REFRESH_TOKEN,
          401: ErrorClass.REFRESH_TOKEN, -201: ErrorClass.NEVER_RETRY, -210: ErrorClass.NEVER_RETRY,
          -213: ErrorClass.OUTSIDE_WINDOW, -230: ErrorClass.OUTSIDE_WINDOW, -14003: ErrorClass.STOP_QUEUE,
          289: ErrorClass.STOP_QUEUE, 210: ErrorClass.NEVER_RETRY, 12007: ErrorClass.OUTSIDE_WINDOW,
          12008: ErrorClass.OUTSIDE_WINDOW, 12009: ErrorClass.OUTSIDE_WINDOW, 12000: ErrorClass.STOP_QUEUE,
          12002: ErrorClass.STOP_QUEUE, 12003: ErrorClass.STOP_QUEUE, 12004: ErrorClass.STOP_QUEUE,
          12010: ErrorClass.STOP_QUEUE, 10000: ErrorClass.RETRY_LATER, 10002: ErrorClass.RETRY_LATER}
    zns = {-108: ErrorClass.NEVER_RETRY, -109: ErrorClass.STOP_QUEUE, -112: ErrorClass.NEVER_RETRY,
           -114: ErrorClass.NEVER_RETRY, -115: ErrorClass.STOP_QUEUE, -118: ErrorClass.NEVER_RETRY,
           -124: ErrorClass.REFRESH_TOKEN, -126: ErrorClass.STOP_QUEUE, -127: ErrorClass.NEVER_RETRY,
           -131: ErrorClass.STOP_QUEUE, -133: ErrorClass.RETRY_LATER, -134: ErrorClass.NEVER_RETRY,
           -135: ErrorClass.STOP_QUEUE, -137: ErrorClass.STOP_QUEUE, -139: ErrorClass.NEVER_RETRY,
           -141: ErrorClass.NEVER_RETRY, -144: ErrorClass.STOP_QUEUE, -146: ErrorClass.STOP_QUEUE,
           -147: ErrorClass.STOP_QUEUE}
    oauth = {-118: ErrorClass.STOP_QUEUE, -14014: ErrorClass.STOP_QUEUE}
    for api, table, expected in ((Api.OA, OA_CODES, oa), (Api.ZNS, ZNS_CODES, zns), (Api.OAUTH, OAUTH_CODES, oauth)):
        for code, cls in expected.items():
            assert code in table, (api, code)
            assert classify(api, code)[0] is cls, (api, code)
    # −118 means different things per API
    assert classify(Api.ZNS, -118)[0] is not classify(Api.OAUTH, -118)[0]
    assert classify(Api.OA, 424242) == (ErrorClass.NEVER_RETRY, "unmapped Zalo oa error 424242")


def test_every_table_entry_cites_its_source() -> None:
    source = Path("handlers/zalo/errors.py").read_text(encoding="utf-8")
    entries = [line for line in source.splitlines() if re.match(r"\s+-?\d+: \(ErrorClass\.", line)]
    assert len(entries) == len(OA_CODES) + len(ZNS_CODES) + len(OAUTH_CODES)
    for line in entries:
        assert re.search(r"#.*(\[Z\d+|GUESS|ZALO\.md)", line), line


def test_http_statuses() -> None:
    assert classify_http_status(503)[0] is ErrorClass.RETRY_LATER
    assert classify_http_status(429)[0] is ErrorClass.RETRY_LATER
    assert classify_http_status(502)[0] is ErrorClass.UNKNOWN_OUTCOME
    assert classify_http_status(504)[0] is ErrorClass.UNKNOWN_OUTCOME
    assert classify_http_status(404)[0] is ErrorClass.NEVER_RETRY


# ---- config ---------------------------------------------------------------------------------


def test_config_defaults_and_env(monkeypatch: pytest.MonkeyPatch) -> None:
    default = Settings(_env_file=None)  # type: ignore[call-arg]
    assert default.zalo_api_base_url == "https://openapi.zalo.me"
    assert default.zalo_oauth_base_url == "https://oauth.zaloapp.com"
    assert default.zalo_zns_base_url == "https://business.openapi.zalo.me"
    assert default.zns_enabled is False and default.zalo_configured() is False
    assert (default.webhook_host, default.webhook_port, default.public_base_url) == ("127.0.0.1", 8080, None)
    for name, value in {
        "ZALO_APP_ID": "123",
        "ZALO_APP_SECRET": "app-s3cret",
        "ZALO_OA_SECRET_KEY": "oa-s3cret",
        "ZALO_REFRESH_TOKEN": "rt-s3cret",
        "ZALO_API_BASE_URL": "http://127.0.0.1:1/openapi",
        "ZNS_ENABLED": "true",
        "WEBHOOK_HOST": "0.0.0.0",
        "WEBHOOK_PORT": "8443",
        "PUBLIC_BASE_URL": "https://bot.example.vn/",
        "ZALO_ZNS_BASE_URL": "  ",  # blank keeps the default
    }.items():
        monkeypatch.setenv(name, value)
    config = Settings(_env_file=None)  # type: ignore[call-arg]
    assert config.zalo_configured() and config.zns_enabled and config.webhook_port == 8443
    assert config.webhook_host == "0.0.0.0" and config.public_base_url == "https://bot.example.vn"
    assert config.zalo_api_base_url == "http://127.0.0.1:1/openapi"
    assert config.zalo_zns_base_url == "https://business.openapi.zalo.me"
    assert config.zalo_refresh_token == "rt-s3cret"
    assert "s3cret" not in repr(config)
    monkeypatch.setenv("ZALO_OA_SECRET_KEY", "")
    assert not Settings(_env_file=None).zalo_configured()  # type: ignore[call-arg]
    monkeypatch.setenv("WEBHOOK_PORT", "abc")
    with pytest.raises(SettingsError, match="WEBHOOK_PORT"):
        load_settings(_env_file=None)
    monkeypatch.setenv("WEBHOOK_PORT", "8443")
    monkeypatch.setenv("ZALO_API_BASE_URL", "openapi.zalo.me")
    with pytest.raises(SettingsError, match="ZALO_API_BASE_URL"):
        load_settings(_env_file=None)


# ---- layer rules ----------------------------------------------------------------------------

FORBIDDEN = ("telegram", "storage", "aiosqlite", "devtools")
VIETNAMESE = re.compile(r"[ăâđêôơưĂÂĐÊÔƠƯàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ]")


def test_package_imports_and_strings_respect_the_layers() -> None:
    files = sorted(Path("handlers/zalo").glob("*.py"))
    assert len(files) >= 8
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                assert not any(name == f or name.startswith(f + ".") for f in FORBIDDEN), (path, name)
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                assert not VIETNAMESE.search(node.value), (path, node.value[:60])
