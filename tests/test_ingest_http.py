"""The shared HTTP client against a real local server: pacing, retries, Retry-After, timeouts, errors."""

import pytest
from replay import ReplayServer, Reply

from paperfeed.papers.services.ingest.http import FetchError, SourceClient, retry_after, user_agent


@pytest.fixture
def server():
    server = ReplayServer().start()
    yield server
    server.stop()


def client(**kwargs) -> SourceClient:
    waits: list[float] = []
    defaults = {"timeout": 2.0, "retries": 3, "backoff": 0.01, "contact": "ops@example.org"}
    made = SourceClient(**(defaults | kwargs))
    original = made.sleep

    def recording_sleep(seconds: float) -> None:
        waits.append(seconds)
        original(min(seconds, 0.05))  # honour the order of events without making the test slow

    made.sleep = recording_sleep
    made.waits = waits  # type: ignore[attr-defined]
    return made


def test_user_agent_names_paperfeed_and_the_contact(server):
    server.route("/x", Reply(b"ok"))
    with client() as c:
        c.get(server.url + "/x")
    agent = server.requests[0].headers["User-Agent"]
    assert agent.startswith("paperfeed/") and "mailto:ops@example.org" in agent


def test_requests_are_spaced_by_the_minimum_interval(server):
    server.route("/x", Reply(b"ok"))
    with SourceClient(min_interval=0.3, contact=None) as c:
        for _ in range(3):
            c.get(server.url + "/x")
    times = [r.at for r in server.requests]
    gaps = [later - earlier for earlier, later in zip(times, times[1:], strict=False)]
    assert all(gap >= 0.25 for gap in gaps), gaps


def test_a_503_with_retry_after_is_waited_out_then_retried(server):
    server.route("/x", Reply(b"busy", 503, {"Retry-After": "7"}), Reply(b"ok"))
    with client() as c:
        assert c.get(server.url + "/x").content == b"ok"
        assert c.waits == [7.0]
    assert len(server.requests) == 2


def test_500s_back_off_exponentially_and_give_up_with_a_clear_message(server):
    server.route("/x", Reply(b"oops", 500))
    with client(retries=2, backoff=1.0) as c, pytest.raises(FetchError) as error:
        c.get(server.url + "/x", params={"verb": "ListRecords"})
    assert c.waits == [1.0, 2.0]
    assert "HTTP 500" in str(error.value) and "gave up after 3 attempts" in str(error.value)
    assert "verb=ListRecords" in str(error.value)


def test_a_timeout_is_retried(server):
    server.route("/x", Reply(b"late", delay=1.5), Reply(b"ok"))
    with client(timeout=0.5) as c:
        assert c.get(server.url + "/x").content == b"ok"


def test_a_timeout_every_time_fails_with_the_reason(server):
    server.route("/x", Reply(b"late", delay=1.0))
    with client(timeout=0.3, retries=1) as c, pytest.raises(FetchError, match=r"no answer within 0.3 s"):
        c.get(server.url + "/x")


def test_a_404_is_not_retried(server):
    server.route("/x", Reply(b"nope", 404))
    with client() as c, pytest.raises(FetchError, match="HTTP 404"):
        c.get(server.url + "/x")
    assert len(server.requests) == 1


def test_nothing_listening_is_a_clear_error():
    with client(retries=0) as c, pytest.raises(FetchError, match="could not connect"):
        c.get("http://127.0.0.1:9/")


def test_a_very_long_retry_after_stops_instead_of_hanging(server):
    server.route("/x", Reply(b"busy", 503, {"Retry-After": "86400"}))
    with client() as c, pytest.raises(FetchError, match="retry after 86400 s; try later"):
        c.get(server.url + "/x")


@pytest.mark.parametrize(
    ("header", "seconds"), [("120", 120.0), (None, None), ("soon", None), ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0)]
)
def test_retry_after_values(header, seconds):
    assert retry_after(header) == seconds


def test_user_agent_without_contact():
    assert "mailto" not in user_agent(None)
