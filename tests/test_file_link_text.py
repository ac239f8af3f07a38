"""The download-link message tells people how long the link works: the same life FileLinks gives."""

from __future__ import annotations

import re

from bot.chat.texts.common import LAYOUT_TEXTS
from handlers.http.files import DEFAULT_TTL


def test_file_link_text_states_the_links_life() -> None:
    hours = re.search(r"(\d+) giờ", LAYOUT_TEXTS.file_link)
    assert hours is not None, LAYOUT_TEXTS.file_link
    assert int(hours.group(1)) * 3600 == DEFAULT_TTL.total_seconds()
