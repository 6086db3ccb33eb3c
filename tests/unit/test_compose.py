"""Message-IDs of outbound mail are unique by construction, whatever the global `random` does."""

import random
from email.utils import parseaddr

from mailbot.compose import new_message_id


def test_message_ids_stay_unique_when_random_is_reseeded_between_calls() -> None:
    # Hypothesis reseeds `random` for every example; make_msgid drew from it and collided.
    ids = set()
    for _ in range(5000):
        random.seed(0)
        ids.add(new_message_id("desk@bureau.example.cn"))
    assert len(ids) == 5000


def test_message_id_is_a_valid_bracketed_id_on_the_sending_domain() -> None:
    msgid = new_message_id("desk@bureau.example.cn")
    assert msgid.startswith("<") and msgid.endswith("@bureau.example.cn>")
    assert parseaddr(msgid)[1].endswith("@bureau.example.cn")
    assert new_message_id("").endswith("@mailbot.local>")
