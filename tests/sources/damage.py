"""Hypothesis strategy shared by the parser tests: recorded responses with a random slice of random bytes."""

from hypothesis import strategies as st


def damaged(recorded: list[bytes]) -> st.SearchStrategy[bytes]:
    """A recorded body with up to 200 bytes replaced by up to 40 random ones: reaches per-record code paths."""

    @st.composite
    def strategy(draw) -> bytes:
        body = draw(st.sampled_from(recorded))
        start = draw(st.integers(0, len(body)))
        end = draw(st.integers(start, min(len(body), start + 200)))
        return body[:start] + draw(st.binary(max_size=40)) + body[end:]

    return strategy()
