"""The staffing inputs read from conversations, on a hand-made fortnight (workspace time
zone Europe/Paris, UTC+1 in early March 2026)."""
from datetime import UTC, date, datetime, timedelta

import pytest
from django_tenants.utils import tenant_context

from ingestion.models import Conversation
from kpis.staffing.selectors import channel_histories, history_window
from tests.ingestion.factories import ConversationFactory, CustomerFactory


def _at(day, hour, minute=0):
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def fortnight(workspace):
    with tenant_context(workspace):
        chat = dict(channel="chat")
        # Monday 09:10 and 09:30 Paris (hour of the week 9): answered after 60 s and 120 s,
        # handled 600 s and 480 s.
        ConversationFactory(**chat, created_at=_at(2, 8, 10), first_response_at=_at(2, 8, 11), resolved_at=_at(2, 8, 21),
                            agent="ann")
        ConversationFactory(**chat, created_at=_at(9, 8, 30), first_response_at=_at(9, 8, 32), resolved_at=_at(9, 8, 40),
                            agent="ann")
        # Tuesday 14:00 Paris (hour 38): abandoned, closed 180 s later (a patience seen in full).
        ConversationFactory(**chat, created_at=_at(3, 13), resolved_at=_at(3, 13, 3), abandoned=True)
        # Sunday 23:30 Paris (hour 167): abandoned, never closed (its wait is unknown).
        ConversationFactory(**chat, created_at=_at(15, 22, 30), abandoned=True)
        # Tuesday 09:00 Paris (hour 33): answered after 30 s, reopened and resolved two days
        # later: no handle time (that is no one sitting), but its wait counts.
        ConversationFactory(**chat, created_at=_at(10, 8), first_response_at=_at(10, 8, 0) + timedelta(seconds=30),
                            resolved_at=_at(12, 8), reopened=True, contacts=2)
        # Saturday 23:00 Paris (hour 143): left after hours, answered 10 h later (no queue:
        # its wait is left out of the patience), handled in 300 s.
        ConversationFactory(**chat, created_at=_at(7, 22), first_response_at=_at(8, 8), resolved_at=_at(8, 8, 5))
        # Monday 16 March 00:30 Paris: the next week, outside the window.
        ConversationFactory(**chat, created_at=_at(15, 23, 30))
        # A test customer's conversation counts nowhere.
        CustomerFactory(external_id="qa-bot", is_test=True)
        ConversationFactory(**chat, created_at=_at(4, 8), customer_external_id="qa-bot")
        # Wednesday 11:00 Paris (hour 59): an email answered after 2 h, handled 10 min.
        # Answered at 13:00 Paris (hour 61) by bo.
        ConversationFactory(channel="email", created_at=_at(4, 10), first_response_at=_at(4, 12),
                            resolved_at=_at(4, 12, 10), agent="bo")
        yield


def test_history_window_is_whole_local_weeks():
    assert history_window(today=date(2026, 3, 18), weeks=2) == (date(2026, 3, 2), date(2026, 3, 16))
    assert history_window(today=date(2026, 3, 16), weeks=2) == (date(2026, 3, 2), date(2026, 3, 16))


def test_arrivals_handle_time_and_patience_per_channel(workspace, fortnight, django_assert_num_queries):
    with tenant_context(workspace):
        Conversation.objects.exists()  # the schema's search_path is set on the first query
        with django_assert_num_queries(3):
            histories = channel_histories(since=date(2026, 3, 2), until=date(2026, 3, 16))
    assert list(histories) == ["chat", "email"]
    chat, email = histories["chat"], histories["email"]
    assert {hour: n for hour, n in enumerate(chat.arrivals) if n} == {9: 1.0, 33: 0.5, 38: 0.5, 143: 0.5, 167: 0.5}
    assert (chat.conversations, chat.handled, chat.aht) == (6, 3, 460.0)  # (600 + 480 + 300) / 3
    # Waits of 60, 120 and 30 s answered (not the 10 h one), 180 s abandoned, and one
    # abandoned of unknown wait, taken as the answered mean of 70 s:
    # (60 + 120 + 30 + 180 + 70) / 2 abandoned = 230 s.
    assert (chat.abandoned, chat.patience) == (2, 230.0)
    # ann answered on Monday 09:00–10:00 in both weeks: one agent seen in that hour a week.
    assert {hour: n for hour, n in enumerate(chat.observed) if n} == {9: 1.0}
    assert {hour: n for hour, n in enumerate(email.arrivals) if n} == {59: 0.5}
    assert {hour: n for hour, n in enumerate(email.observed) if n} == {61: 0.5}
    assert (email.conversations, email.aht, email.abandoned, email.patience) == (1, 600.0, 0, None)


def test_a_weekly_outlier_is_trimmed_from_the_handle_time(workspace):
    with tenant_context(workspace):
        start = _at(2, 9)
        for n in range(99):
            ConversationFactory(channel="phone", created_at=start + timedelta(minutes=n), first_response_at=start + timedelta(minutes=n),
                                resolved_at=start + timedelta(minutes=n, seconds=300))
        # One call left open all weekend: above the 99th percentile, left out of the mean.
        ConversationFactory(channel="phone", created_at=start, first_response_at=start, resolved_at=start + timedelta(days=3))
        [phone] = channel_histories(since=date(2026, 3, 2), until=date(2026, 3, 9)).values()
    assert (phone.conversations, phone.handled, phone.aht, phone.patience) == (100, 100, 300.0, None)
