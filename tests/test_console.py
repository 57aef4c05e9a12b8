"""The staff console, driven through gradio_client against the console mounted in a real server."""

import pytest


@pytest.fixture(scope="module")
def staff(live_server):
    from gradio_client import Client

    return Client(live_server.url + "/staff/", verbose=False)


def test_a_question_returns_the_answer_and_why(staff, corpus):
    reply, route, why, candidates, entry = staff.predict("how long does a session take?", "[]", api_name="/explain")
    assert route == "answer"
    assert reply == corpus.get("sessions-length").answer
    assert "retrieval.match" in why and "best entry scored" in why
    rows = candidates["data"] if isinstance(candidates, dict) else candidates
    assert rows[0][0] == "sessions-length" and len(rows) >= 2
    assert 0.5 < rows[0][5] <= 1.0   # the classifier's probability is shown beside the other scores
    assert ".txt" in entry and "sessions-length" in entry


def test_console_shows_which_guardrail_fired(staff):
    reply, route, why, candidates, entry = staff.predict("what dose of ketamine should I take at home?", "[]",
                                                         api_name="/explain")
    assert route == "dosing" and "dosing." in why
    crisis = staff.predict("everyone would be better off without me", "[]", api_name="/explain")
    assert crisis[1] == "crisis" and "988" in crisis[0]


def test_corpus_browser_filters(staff):
    table = staff.predict("esketamine", "all", "approved", api_name="/browse")
    rows = table["data"] if isinstance(table, dict) else table
    assert rows and any("esketamine" in " ".join(map(str, r)).lower() for r in rows)
    assert len(rows) < 20   # filtered, not the whole corpus
    topic_rows = staff.predict("", "side_effects", "all", api_name="/browse")
    topic_rows = topic_rows["data"] if isinstance(topic_rows, dict) else topic_rows
    assert topic_rows and all(r[1] == "side_effects" for r in topic_rows)
