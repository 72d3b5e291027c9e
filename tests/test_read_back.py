"""Files the tool wrote earlier and reads back: a damaged one is a warning naming it and a recompute."""

from __future__ import annotations

import json
import logging

import pytest

from flows.files import read_back
from flows.llm.cache import AnswerCache


@pytest.mark.parametrize("damage", [b"", b'{"content": "cut sho', b"\xff\xfe\x00garbage", b'{"content": 5}',
                                    b'["content"]'])
def test_a_damaged_llm_cache_entry_is_a_warning_naming_it_and_a_miss(tmp_path, caplog, damage):
    cache = AnswerCache(tmp_path)
    key = AnswerCache.key("m", [{"role": "user", "content": "hi"}], {})
    cache.put(key, "an answer")
    assert cache.get(key) == "an answer"
    path = next(tmp_path.rglob("*.json"))
    path.write_bytes(damage)
    with caplog.at_level(logging.WARNING):
        assert cache.get(key) is None
    assert str(path) in caplog.text
    cache.put(key, "again")
    assert cache.get(key) == "again"


def test_read_back_passes_the_value_and_a_missing_file_quietly(tmp_path, caplog):
    path = tmp_path / "entry.json"
    assert read_back(path, json.loads, "cached thing") is None
    assert caplog.text == ""
    path.write_text('{"a": 1}')
    assert read_back(path, json.loads, "cached thing") == {"a": 1}
