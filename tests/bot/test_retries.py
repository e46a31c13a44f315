"""What a platform's retry looks like to both faces: a repeated id, and a Retry-After header."""

from __future__ import annotations

from bot.retries import SeenIds, retry_after_of


def test_an_id_is_taken_once_and_the_oldest_is_let_go_when_full():
    seen = SeenIds(size=2)
    assert seen.first_time("a") and not seen.first_time("a")
    assert seen.first_time("b") and seen.first_time("c")
    assert seen.first_time("a"), "the oldest id was let go to keep the size"
    assert not seen.first_time("c")


def test_an_id_taken_back_runs_again_and_an_empty_id_always_runs():
    seen = SeenIds(size=10)
    assert seen.first_time("ev1")
    seen.forget("ev1")
    assert seen.first_time("ev1")
    assert seen.first_time("") and seen.first_time("")


def test_retry_after_is_read_in_any_case_and_from_a_list():
    assert retry_after_of({"Retry-After": "3"}) == 3.0
    assert retry_after_of({"retry-after": ["2.5"]}) == 2.5
    assert retry_after_of({"RETRY-AFTER": "-4"}) == 0.0


def test_a_missing_or_unreadable_retry_after_is_the_callers_default():
    assert retry_after_of({}) == 1.0
    assert retry_after_of(None, default=None) is None
    assert retry_after_of({"Retry-After": "Wed, 21 Oct 2026 07:28:00 GMT"}, default=None) is None
