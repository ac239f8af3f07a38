"""The cost-question corpus (tests/data/cost_corpus.json): 500+ questions written the way
citizens type them on a phone, each run through the real parser and dialogue.

Every question gets exactly the expected figures (typed from the official tables, never computed
by the engine), or, when the bot must not answer with a figure, an Ask saying what it understood
or a reply with no figure at all. Test ids name each question's family.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from bot.chat.cost import Answer, Ask, CostDialogue, CostDraft, OffTopic, Scheme, Stop
from bot.chat.rich import Rich
from bot.chat.texts import cost as replies
from bot.domain.campaigns import CampaignBook
from bot.domain.engine import HouseholdQuote, SupportedQuote, VoluntaryQuote
from bot.domain.money import format_vnd
from bot.domain.rates import RateBook
from bot.parsing import questions as textparse

CORPUS: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "data" / "cost_corpus.json").read_text(encoding="utf-8")
)
# A figure in a reply: "94.770 đ", "1.366.200 đ".
AMOUNT = re.compile(r"\d[\d.]* đ")

RATES = RateBook.load()
DIALOGUE = CostDialogue(RATES, CampaignBook.load(), replies.LABELS)


def _plain(text: Rich) -> str:
    """The reply as the person reads it (no markup)."""
    return text.plain


def _has_group(key: str, on: date) -> bool:
    rates = RATES.at(on)
    return key in rates.bhyt_support.groups or key in rates.bhxh_voluntary.support


def respond(item: dict[str, Any]) -> tuple[object, str]:
    """The outcome for one question and the text the person would read."""
    today = date.fromisoformat(item["today"])
    outcome = DIALOGUE.respond(textparse.parse_question(item["text"], today), today)
    if isinstance(outcome, Answer):
        return outcome, _plain(replies.answer_text(outcome))
    if isinstance(outcome, Ask):
        return outcome, _plain(replies.ask_text(outcome, RATES.at(outcome.draft.on or today)))
    if isinstance(outcome, OffTopic):
        return outcome, _plain(replies.off_topic_text(outcome))
    if isinstance(outcome, Stop):
        return outcome, _plain(replies.stop_text(outcome))
    return outcome, ""


def test_the_corpus_is_large_and_covers_every_family() -> None:
    assert len(CORPUS) >= 500
    families = {item["family"] for item in CORPUS}
    assert families >= {
        "household", "household_covered", "household_children", "dates", "money_spoken",
        "group_ethnic", "group_island", "group_state_supported", "group_typo", "free_card",
        "off_topic", "unused_clause", "campaign", "group_new_2025",
        # the independent review's reproductions
        "negation", "adults_children", "relative_dates", "expiry_vs_payment", "year_not_income",
        "area_negation", "covered_household_cards", "second_person", "five_years", "rate_change",
        # the second review's reproductions
        "negation_typed", "name_not_date", "members_named", "period_numbers", "set_aside",
        "corrections", "two_questions",
    }
    assert len({item["text"] + item["today"] for item in CORPUS}) == len(CORPUS)


@pytest.mark.parametrize("item", CORPUS, ids=[item["id"] for item in CORPUS])
def test_corpus_question(item: dict[str, Any]) -> None:
    required = item.get("requires_group")
    if required and not _has_group(required, date.fromisoformat(item.get("on") or item["today"])):
        pytest.skip(f"rate book has no group {required!r} on that date yet")
    outcome, text = respond(item)
    expect = item["expect"]
    for phrase in item.get("says", []):
        assert phrase in text, text
    for phrase in item.get("says_not", []):
        assert phrase not in text, text
    if expect == "answer":
        _check_answer(item, outcome, text)
    elif expect == "group":
        assert isinstance(outcome, Answer), text
        assert outcome.draft.group == item["group"]
        assert "Tính cho:" in text
    elif expect == "ask":
        assert isinstance(outcome, Ask), text
        assert "Mình hiểu" in text or "nhóm nào" in text
        # no cost figure: at most the income the person stated, echoed as understood
        assert "Tổng" not in text and "Bạn đóng" not in text and "/tháng" not in text, text
        if outcome.draft.income is None:
            assert not AMOUNT.search(text), text
    elif expect == "ask_field":
        # a follow-up question (or a refusal with its limit): never a cost figure
        assert isinstance(outcome, Ask), text
        assert outcome.field == item["field"], (outcome.field, text)
        assert "Tổng" not in text and "Bạn đóng" not in text, text
        if "scheme" in item:
            assert outcome.draft.scheme == Scheme(item["scheme"]) and outcome.draft.group is None
        if "on" in item:
            assert outcome.draft.on == date.fromisoformat(item["on"])
    elif expect == "stop":
        assert isinstance(outcome, Stop), text
        assert not AMOUNT.search(text), text
    else:
        assert expect == "no_figure"
        assert isinstance(outcome, (Answer, OffTopic)), text
        if isinstance(outcome, Answer):
            assert isinstance(outcome.quote, SupportedQuote) and outcome.quote.free
            assert "Đóng tại" not in text, text  # nothing to pay at an agent
        assert not AMOUNT.search(text), text


    if item.get("buttons"):
        assert isinstance(outcome, Ask), text
        _check_buttons(item, outcome)


def _check_buttons(item: dict[str, Any], ask: Ask) -> None:
    """Every button the review checked leads to the right figure (or the right next question):
    an ask whose buttons both give a wrong figure is as bad as a wrong answer."""
    today = date.fromisoformat(item["today"])
    labels = [choice.label for choice in ask.choices]
    for expected in item["buttons"]:
        (choice,) = [c for c in ask.choices if c.label == expected["label"]] or [None]
        assert choice is not None, (expected["label"], labels)
        # the button carries the whole question: decode it as a press would
        draft = CostDraft.decode(choice.draft.encode())
        assert draft == choice.draft
        outcome = DIALOGUE.advance(draft, today)
        if "field" in expected:
            assert isinstance(outcome, Ask) and outcome.field == expected["field"], outcome
            continue
        assert isinstance(outcome, Answer), (expected, outcome)
        quote = outcome.quote
        if "total" in expected:
            assert isinstance(quote, HouseholdQuote) and quote.total == expected["total"], quote
        elif "person" in expected:
            assert isinstance(quote, SupportedQuote) and quote.person_pays == expected["person"], quote
        else:
            assert isinstance(quote, VoluntaryQuote) and quote.monthly_net == expected["monthly_net"], quote


def _check_answer(item: dict[str, Any], outcome: object, text: str) -> None:
    assert isinstance(outcome, Answer), text
    draft, quote = outcome.draft, outcome.quote
    lines = text.splitlines()
    assert lines[0].startswith("Tính cho: "), text
    # what was computed is said once: no header repeating the "Tính cho" line
    assert not [line for line in lines[1:] if line.startswith(("BHYT ·", "BHYT hộ gia đình ·", "BHXH tự nguyện ·"))], text
    assert f"Tính theo quy định ngày {outcome.on.strftime('%d/%m/%Y')}" in text
    # one name per group in one reply, percentages written one way
    assert "Đối tượng khác" not in text and not re.search(r"\d %", text), text
    if "on" in item:
        assert outcome.on == date.fromisoformat(item["on"])
        assert date.fromisoformat(item["on"]).strftime("%d/%m/%Y") in lines[0]
    else:
        assert outcome.on == date.fromisoformat(item["today"])
    if "months" in item:
        assert draft.months == item["months"]
    if "group" in item:
        assert draft.group == item["group"]
    if isinstance(quote, HouseholdQuote):
        assert quote.members == item["members"]
        assert draft.covered == item.get("covered")
        if item.get("covered"):
            assert f"{item['covered']} người đã có thẻ khác không tính" in lines[0]
        assert quote.total == item["total"]
        assert f"Tổng: {format_vnd(item['total'])}" in text
    elif isinstance(quote, SupportedQuote):
        assert quote.total == item["total"]
        assert quote.person_pays == item["person"]
        assert f"Bạn đóng: {format_vnd(item['person'])}" in text
    else:
        assert isinstance(quote, VoluntaryQuote)
        assert quote.income == item["income"]
        assert quote.monthly_net == item["monthly_net"]
        assert f"Bạn đóng: {format_vnd(item['monthly_net'])}/tháng" in text
        if item["months"] > 1:
            assert quote.period_net == item["period_net"]
            assert format_vnd(item["period_net"]) in text


def test_the_longest_draft_fits_in_a_button() -> None:
    """Each scheme's draft at its longest: members and covered travel only for households,
    the area only for supported cards, the income only for voluntary BHXH."""
    day = date(2026, 11, 23)
    for draft in (
        CostDraft(scheme=Scheme.BHYT_HOUSEHOLD, members=20, months=12, on=day, covered=19),
        CostDraft(scheme=Scheme.BHYT_HOUSEHOLD, members=19, months=12, on=day, covered=19, start=20),
        CostDraft(scheme=Scheme.BHYT_SUPPORTED, months=12, group="nan_nhan_mua_ban_nguoi",
                  on=day, area="bariavungtau"),
        CostDraft(scheme=Scheme.BHXH_VOLUNTARY, months=12, income=50_600_000,
                  group="xa_dao_dac_khu", on=day),
    ):
        assert len(draft.encode().encode()) < 64, draft.encode()
        assert CostDraft.decode(draft.encode()) == draft
    # buttons sent before covered members and area existed still decode
    assert CostDraft.decode("q1|h|3|12|||20261123") == CostDraft(
        scheme=Scheme.BHYT_HOUSEHOLD, members=3, months=12, on=date(2026, 11, 23)
    )
    assert CostDraft.decode("q1|s||3||dtts_vung_thoat_kho|20241105||AG-2024") is None


@pytest.mark.parametrize(
    "payload",
    [
        "q1|h|" + "9" * 20 + "|12|||20261123",  # 20 digits
        "q1|h|3|12|||" + "9" * 20,  # a 20-digit date
        "q1|h|٣|12|||20261123",  # Arabic-Indic digit three
        "q1|h|3|１２|||20261123",  # full-width digits
        "q1|v|||²000000|khac|20261123",  # a superscript digit
        "q1|h|3|12|||20261123|2||" + "9" * 20,  # a 20-digit ladder start
        "q1|h|3|12|||2026113",  # a 7-digit date
        "q1|h|-3|12|||20261123",
        "q1|h|3|12|||20261323",  # month 13
    ],
)
def test_a_forged_payload_decodes_to_none_and_never_raises(payload: str) -> None:
    assert CostDraft.decode(payload) is None
