"""The bot-side rate limiter: exact windows, per-chat spacing for bulk sends, RetryAfter pauses
that nothing releases early (PTB issue 5338), and every message delivered exactly once by an
emulator enforcing the limits.

Speed is measured in bench/, not here: these tests check the order of events and lower bounds
on waits (a busy machine only makes waits longer), never an upper bound on elapsed time."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest
from telegram.error import RetryAfter
from telegram.ext import ExtBot

from devtools.telegram_emulator import BotApiEmulator, EmulatorLimits
from handlers.telegram.ratelimit import BULK, FLOOD_CHATS, BotRateLimiter, SendPolicy, SlidingWindow

TOKEN = "123456:TEST-token-for-the-rate-limiter"


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_sliding_window_never_exceeds_the_limit_in_any_window() -> None:
    clock = FakeTime()
    window = SlidingWindow(30, 1.0, clock)
    slots = []
    for i in range(200):
        clock.now = i * 0.004  # callers arrive at 250/s
        slots.append(clock.now + window.reserve())
    for i in range(len(slots) - 30):
        assert slots[i + 30] - slots[i] >= 1.0 - 1e-9
    # A leaky bucket (aiolimiter) would let 60 through in the first second; this lets 30.
    assert sum(1 for s in slots if s < 1.0) == 30


def test_sliding_window_is_free_when_idle() -> None:
    clock = FakeTime()
    window = SlidingWindow(2, 1.0, clock)
    assert window.reserve() == 0 and window.reserve() == 0
    assert window.reserve() == pytest.approx(1.0)
    clock.now = 5.0
    assert window.reserve() == 0 and window.idle is False


async def _call(limiter: BotRateLimiter, callback, chat_id: int = 1, args: object = None) -> object:  # type: ignore[no-untyped-def]
    return await limiter.process_request(callback, (), {}, "sendMessage", {"chat_id": chat_id}, args)  # type: ignore[arg-type]


async def test_bulk_sends_to_one_chat_are_spaced_interactive_ones_are_not() -> None:
    """Checked by the order of events and by lower bounds only (a slow machine makes gaps
    longer, never shorter): no assertion here can fail because the machine is busy."""
    interval = 0.5
    limiter = BotRateLimiter(overall_per_second=1000, per_chat_interval=interval)
    loop = asyncio.get_running_loop()
    events: list[tuple[str, float]] = []

    def send(label: str) -> Callable[[], Awaitable[bool]]:
        async def callback() -> bool:
            events.append((label, loop.time()))
            return True

        return callback

    def when(label: str) -> float:
        return next(t for name, t in events if name == label)

    before_first = loop.time()
    await _call(limiter, send("7a"), 7, BULK)
    # A second bulk send to chat 7 is held for the interval; three interactive messages to
    # chat 8 meanwhile are not: were they spaced, the 2nd and 3rd would come after it.
    await asyncio.gather(
        _call(limiter, send("7b"), 7, BULK), *(_call(limiter, send(f"8-{n}"), 8) for n in range(3))
    )
    assert [name for name, _ in events] == ["7a", "8-0", "8-1", "8-2", "7b"]
    assert when("7b") >= before_first + interval - 1e-3
    # A bulk send to chat 8 keeps its distance from a reply just sent there; a bulk send to
    # chat 9 is not held up by it.
    before_reply = loop.time()
    await _call(limiter, send("8-reply"), 8)
    await asyncio.gather(_call(limiter, send("8-bulk"), 8, BULK), _call(limiter, send("9"), 9, BULK))
    assert [name for name, _ in events[-3:]] == ["8-reply", "9", "8-bulk"]
    assert when("8-bulk") >= before_reply + interval - 1e-3


async def test_retry_after_is_honoured_and_retried() -> None:
    limiter = BotRateLimiter(max_retries=2)
    loop = asyncio.get_running_loop()
    calls: list[float] = []

    async def flooded() -> bool:
        calls.append(loop.time())
        if len(calls) == 1:
            raise RetryAfter(timedelta(seconds=0.2))
        return True

    assert await _call(limiter, flooded) is True
    assert calls[1] - calls[0] >= 0.2 - 0.01  # exactly what Telegram asked, no extra margin


async def test_retries_are_bounded_and_int_args_still_work() -> None:
    limiter = BotRateLimiter(max_retries=5)

    async def always() -> bool:
        raise RetryAfter(timedelta(seconds=0.01))

    with pytest.raises(RetryAfter):
        await _call(limiter, always, args=1)
    with pytest.raises(RetryAfter):
        await _call(limiter, always, args=SendPolicy(bulk=True, max_retries=0))


async def test_a_429_pause_is_not_released_by_another_request_finishing() -> None:
    """The scenario of PTB issue 5338 (where ``AIORateLimiter`` lets a request through early):
    A (chat 1) is told to wait 0.5 s while B (chat 2) is in flight; B then finishes; D, to
    chat 1 too, comes after B. The pause holds until its deadline: neither D nor A's retry goes
    before 0.5 s. C, to chat 3, which the 429 did not concern, is not held: it goes before both
    (a single 429 costs only the chat it was about).

    Sequenced by events, not sleeps, and checked with order and lower bounds only."""
    limiter = BotRateLimiter(max_retries=1)
    loop = asyncio.get_running_loop()
    marks: dict[str, float] = {}
    order: list[str] = []
    b_in_flight, a_refused, release_b = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def slow() -> bool:  # B
        b_in_flight.set()
        await release_b.wait()
        marks["b_done"] = loop.time()
        return True

    async def flooded_once() -> bool:  # A
        if "a429" not in marks:
            marks["a429"] = loop.time()
            a_refused.set()
            raise RetryAfter(timedelta(seconds=0.5))
        marks["a_retry"] = loop.time()
        order.append("a_retry")
        return True

    def mark(name: str) -> Callable[[], Awaitable[bool]]:
        async def callback() -> bool:
            marks[name] = loop.time()
            order.append(name)
            return True

        return callback

    async def call(cb, chat: int) -> object:  # type: ignore[no-untyped-def]
        return await limiter.process_request(cb, (), {}, "sendMessage", {"chat_id": chat}, 1)

    b = asyncio.create_task(call(slow, 2))
    await b_in_flight.wait()
    a = asyncio.create_task(call(flooded_once, 1))
    await a_refused.wait()
    assert limiter.chat_paused_for(1) > 0 and limiter.chat_paused_for(3) == 0
    release_b.set()
    assert await b is True  # B finished while the pause is in force...
    d = asyncio.create_task(call(mark("d"), 1))  # ...and D, to chat 1 after it, still waits
    assert await call(mark("c"), 3) is True
    assert await a is True and await d is True
    deadline = marks["a429"] + 0.5
    assert marks["b_done"] < marks["c"]
    assert order[0] == "c" and set(order) == {"c", "d", "a_retry"}
    assert marks["d"] >= deadline - 1e-3 and marks["a_retry"] >= deadline - 1e-3


def test_a_429_pauses_its_chat_and_a_second_chat_refused_pauses_everyone() -> None:
    """One 429 is about one request: only its chat waits, and a few more stray ones too. The
    FLOOD_CHATS-th chat refused during those pauses means the bot as a whole is over Telegram's
    limit: everyone waits then. Pauses are deadlines that only move later."""

    async def scenario() -> None:
        limiter = BotRateLimiter()
        limiter.retry_after(1, 30)
        assert limiter.chat_paused_for(1) > 29 and limiter.chat_paused_for(2) == 0
        assert limiter.paused_for == 0
        limiter.retry_after(1, 5)  # a shorter answer does not shorten the pause
        assert limiter.chat_paused_for(1) > 29
        for chat in range(2, FLOOD_CHATS):
            limiter.retry_after(chat, 10)
            assert limiter.paused_for == 0 and limiter.chat_paused_for(chat + 1) == 0
            assert 9 < limiter.chat_paused_for(chat) <= 10
        limiter.retry_after(FLOOD_CHATS, 10)
        assert 9 < limiter.paused_for <= 10 and limiter.chat_paused_for(FLOOD_CHATS + 1) > 9
        assert limiter.chat_paused_for(1) > 29

    asyncio.run(scenario())


def test_the_safety_margin_spaces_releases() -> None:
    """30/s with a 3 % margin releases 29.1 a second: any 30 consecutive releases span 1.031 s,
    so a message may arrive 31 ms late relative to the one 30 before it and still no
    server-side second holds 31. The per-chat interval gets the same margin."""
    limiter = BotRateLimiter(30, per_chat_interval=1.0, safety_margin=0.03)
    assert limiter.release_rate == pytest.approx(29.1)
    assert 30 * limiter.spacing == pytest.approx(1 / 0.97)
    assert limiter.chat_spacing == pytest.approx(1 / 0.97)
    assert BotRateLimiter(30, safety_margin=0).release_rate == pytest.approx(30)
    with pytest.raises(ValueError):
        BotRateLimiter(30, safety_margin=0.5)


async def test_a_shorter_pause_does_not_end_a_longer_one() -> None:
    limiter = BotRateLimiter()
    loop = asyncio.get_running_loop()
    start = loop.time()
    limiter.pause_for(0.4)
    limiter.pause_for(0.1)
    await limiter.wait_pause()
    assert loop.time() - start >= 0.4 - 0.02


async def test_reserved_sends_do_not_take_a_second_slot() -> None:
    """A reserved send goes at once; had it taken a second per-chat slot, it would wait the
    interval and come after a timer set for half of it (order of events, not a stopwatch)."""
    limiter = BotRateLimiter(overall_per_second=1000, per_chat_interval=0.3)
    events: list[str] = []
    await limiter.reserve(5)

    async def half_interval() -> None:
        await asyncio.sleep(limiter.per_chat_interval / 2)
        events.append("half interval")

    async def send() -> bool:
        events.append("sent")
        return True

    timer = asyncio.create_task(half_interval())
    await _call(limiter, send, 5, SendPolicy(bulk=True, reserved=True))
    await timer
    assert events == ["sent", "half interval"]


async def test_against_the_emulator_every_message_arrives_exactly_once() -> None:
    """60 bulk messages (30 chats, twice each) through the limiter at Telegram's 30/s to an
    emulator enforcing 30/s and a 0.2 s per-chat interval, with 0.1 s of slack for request
    jitter (a busy machine can bunch requests up on the way). Every message arrives exactly once;
    any 429 was retried. Without the limiter, 30 of the 60 would be refused at first."""
    limits = EmulatorLimits(global_per_second=30, per_chat_interval=0.2, tolerance=0.1)
    emulator = BotApiEmulator(token=TOKEN, limits=limits)
    await emulator.start()
    bot = ExtBot(TOKEN, base_url=emulator.base_url, rate_limiter=BotRateLimiter(30, per_chat_interval=0.2))
    try:
        await bot.initialize()
        chats = [emulator.user(500 + i).id for i in range(30)]
        await asyncio.gather(*(bot.send_message(c, f"tin {n}", rate_limit_args=BULK) for n in range(2) for c in chats))
        delivered = Counter((m.chat_id, m.plain_text) for m in emulator.sent)
        assert delivered == {(c, f"tin {n}"): 1 for c in chats for n in range(2)}
        assert all((r.method, r.error_code) == ("sendMessage", 429) for r in emulator.rejected)
        assert emulator.requests["sendMessage"] == 60 + len(emulator.rejected)  # each 429 retried
        assert len(emulator.rejected) <= 5  # a stray one from jitter at most, not 30
    finally:
        await bot.shutdown()
        await emulator.stop()


async def test_a_send_held_up_by_a_paused_process_counts_from_when_it_left() -> None:
    """The process stalls right after releasing send 0 (here: a blocking call in its request,
    as garbage collection or a busy machine would), so send 0 really leaves only when the
    stall ends. Send 10 - the 11th, with 10 allowed a window - must then keep a full window
    from the end of the stall, not from send 0's release, or both would land in one
    server-side window. Lower bounds only: a slower machine only makes the gap longer."""
    limiter = BotRateLimiter(overall_per_second=10, per_chat_interval=0, safety_margin=0)
    loop = asyncio.get_running_loop()
    released: dict[int, float] = {}
    stall_over: list[float] = []

    def send(n: int) -> Callable[[], Awaitable[bool]]:
        async def callback() -> bool:
            released[n] = loop.time()
            if n == 0:
                time.sleep(0.3)  # noqa: ASYNC251 - the stall under test
                stall_over.append(loop.time())
            return True

        return callback

    await asyncio.gather(*(_call(limiter, send(n), 100 + n) for n in range(11)))
    assert sorted(released, key=released.__getitem__) == list(range(11))
    assert released[10] >= stall_over[0] + limiter.window - 1e-3


# --------------------------------------------------------------------------- review fixes


async def _until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    """Poll a condition on the bot's side (the emulator's wait_until wakes on API calls)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "condition not met"
        await asyncio.sleep(0.005)


async def test_a_429_on_a_chat_less_request_holds_only_that_method_not_other_chats() -> None:
    """setMyCommands (the default menu) refused with retry_after=6: a citizen's reply is not
    held by it (it arrives before the retried setMyCommands); a per-person menu's 429 holds
    that person's chat (its scope), and answerCallbackQuery's only answerCallbackQuery."""
    from telegram import BotCommand, BotCommandScopeChat

    emulator = BotApiEmulator(token=TOKEN, limits=EmulatorLimits(global_per_second=30, per_chat_interval=None))
    await emulator.start()
    limiter = BotRateLimiter(30)
    bot = ExtBot(TOKEN, base_url=emulator.base_url, rate_limiter=limiter)
    try:
        await bot.initialize()
        citizen, member = emulator.user(701).id, emulator.user(702).id
        emulator.fail_next("setMyCommands", "429", retry_after=6)
        menu = asyncio.create_task(bot.set_my_commands([BotCommand("gia", "Hỏi mức đóng")]))
        await _until(lambda: limiter.method_paused_for("setMyCommands") > 0)
        assert limiter.paused_for == 0 and limiter.chat_paused_for(citizen) == 0
        assert limiter.method_paused_for("setMyCommands") > 0
        await bot.send_message(citizen, "Mức đóng BHYT hộ gia đình: 1.366.200 đ")
        assert not menu.done()  # the reply went while the menu still waited its 6 s
        assert await menu is True
        assert emulator.requests["setMyCommands"] == 2  # retried once, after the pause
        assert [m.chat_id for m in emulator.sent] == [citizen]

        emulator.fail_next("setMyCommands", "429", retry_after=1)
        scoped = [BotCommand("ghi", "Ghi nhận")]
        personal = asyncio.create_task(bot.set_my_commands(scoped, scope=BotCommandScopeChat(member)))
        await _until(lambda: limiter.chat_paused_for(member) > 0)
        assert limiter.chat_paused_for(citizen) == 0 and limiter.method_paused_for("setMyCommands") == 0
        assert await personal is True and emulator.requests["setMyCommands"] == 4
    finally:
        await bot.shutdown()
        await emulator.stop()

    limiter = BotRateLimiter(30)

    async def refused() -> bool:
        raise RetryAfter(timedelta(seconds=30))

    with pytest.raises(RetryAfter):
        await limiter.process_request(refused, (), {}, "answerCallbackQuery", {"callback_query_id": "1"}, 0)
    assert limiter.method_paused_for("answerCallbackQuery") > 29
    assert limiter.paused_for == 0 and limiter.chat_paused_for(5) == 0
    assert limiter.method_paused_for("sendMessage") == 0


async def test_bulk_sends_queued_behind_a_429_pause_keep_the_per_chat_interval() -> None:
    """Four bulk sends to one chat, the first refused with retry_after=2: when the pause ends
    they go a chat interval apart (fresh per-chat slots), so the emulator, counting Telegram's
    per-chat limit, refuses none of them."""
    emulator = BotApiEmulator(token=TOKEN, limits=EmulatorLimits(global_per_second=30, per_chat_interval=0.4))
    await emulator.start()
    bot = ExtBot(TOKEN, base_url=emulator.base_url, rate_limiter=BotRateLimiter(30, per_chat_interval=0.4))
    try:
        await bot.initialize()
        chat = emulator.user(801).id
        emulator.fail_next("sendMessage", "429", chat_id=chat, retry_after=2)
        await asyncio.gather(*(bot.send_message(chat, f"tin {n}", rate_limit_args=BULK) for n in range(4)))
        assert Counter(m.plain_text for m in emulator.sent) == {f"tin {n}": 1 for n in range(4)}
        assert emulator.stats.injected_429 == 1
        assert emulator.stats.flood_429 == 0  # no two sends to the chat within its interval
        assert emulator.requests["sendMessage"] == 5
    finally:
        await bot.shutdown()
        await emulator.stop()


async def test_an_interactive_reply_keeps_a_bulk_reservation_of_its_chat() -> None:
    """Bulk A goes, bulk B is booked one interval later; a reply to the same chat then goes at
    once without moving B's booking back, so bulk C still comes an interval after B (lower
    bounds only: a busy machine makes gaps longer). The interval is long enough (1 s) that the
    reply, sent at once, is ahead of B's booking even on a loaded machine."""
    limiter = BotRateLimiter(overall_per_second=1000, per_chat_interval=1.0)
    loop = asyncio.get_running_loop()
    marks: dict[str, float] = {}
    order: list[str] = []

    def send(label: str) -> Callable[[], Awaitable[bool]]:
        async def callback() -> bool:
            marks[label] = loop.time()
            order.append(label)
            return True

        return callback

    await _call(limiter, send("a"), 7, BULK)
    b = asyncio.create_task(_call(limiter, send("b"), 7, BULK))
    await asyncio.sleep(0)  # B books its slot and sleeps
    await _call(limiter, send("reply"), 7)
    await _call(limiter, send("c"), 7, BULK)
    await b
    assert order == ["a", "reply", "b", "c"]
    assert marks["b"] - marks["a"] >= limiter.chat_spacing - 1e-3
    assert marks["c"] - marks["b"] >= limiter.chat_spacing - 1e-3


async def test_a_long_retry_after_is_honoured_in_full_and_not_retried_in_line() -> None:
    """Telegram asks 300 s: the chat is held the full 300 s (not capped at 120 s) and the
    request is handed back rather than retried early (injected clock)."""
    clock = FakeTime()
    limiter = BotRateLimiter(30, max_retry_after=120, clock=clock)
    calls = 0

    async def refused() -> bool:
        nonlocal calls
        calls += 1
        raise RetryAfter(timedelta(seconds=300))

    with pytest.raises(RetryAfter):
        await _call(limiter, refused, 9)
    assert calls == 1
    assert limiter.chat_paused_for(9) == pytest.approx(300)
    clock.now = 299.0
    assert limiter.chat_paused_for(9) == pytest.approx(1)
    clock.now = 300.0
    assert limiter.chat_paused_for(9) == 0
