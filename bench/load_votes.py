"""The upvotes of bench/load.py: signed-in members voting through the page's button, every acknowledgement kept.

A small Python client (threads and http.client) rather than wrk, because the check afterwards needs to know every
vote the site acknowledged. Each thread drives its own members, so no two requests for one (member, paper) are in
flight at once, except on purpose: one vote in ten is a double click, the same POST sent on two connections at
once. Each vote flips the member's last acknowledged state for a paper (upvote, or take it back), posted as the
htmx button does: the form's fields, the CSRF token read from a page as a browser has it, `HX-Request` and
`Origin`. A 200 is an acknowledgement and must carry the button in the state asked for. A request without an
answer is sent again (a vote sets a state, so that is safe); a vote never acknowledged, or answered with an error,
makes its (member, paper) uncertain: it is voted on no more and left out of the check. Connections are closed
now and then (a double click's at once) so that they spread over the server's workers, as wrk's do.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.client import HTTPConnection, HTTPException
from urllib.parse import urlencode

DOUBLE_CLICK = 0.1  # share of votes sent twice at once, on two connections
ATTEMPTS = 3  # sends of a vote whose connection broke before the answer came


class SignInFailed(Exception):
    """A member's session or CSRF token does not work; the message says which member and what the page said."""


@dataclass
class VoteClient:
    """Members (username, session, then csrf and csrf_cookie from sign_in) voting on `papers` of a site."""

    members: list[dict]
    papers: list[str]
    ports: list[int]  # member i votes on ports[i % len(ports)]
    cookies: tuple[str, str]  # the session and CSRF cookie names
    seed: int
    per_connection: int  # votes a connection carries on average before it is closed and another opened
    state: dict[tuple[str, str], bool] = field(default_factory=dict)  # last acknowledged: upvoted or not
    uncertain: set[tuple[str, str]] = field(default_factory=set)
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    connection_errors: Counter = field(default_factory=Counter)  # by exception, each followed by a new send
    wrong_answers: list[str] = field(default_factory=list)  # 200s without the button in the state asked for
    acknowledged: Counter = field(default_factory=Counter)  # "up", "down", "double clicks"
    seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        for number, member in enumerate(self.members):
            member["port"] = self.ports[number % len(self.ports)]

    def sign_in(self) -> None:
        """Each member opens a paper page as a browser would: proof that the session signs in, and the CSRF token."""
        for member in self.members:
            client = HTTPConnection("127.0.0.1", member["port"], timeout=60)
            try:
                client.request("GET", f"/papers/{self.papers[0]}", headers={"Cookie": self._cookie(member)})
                response = client.getresponse()
                page = response.read().decode("utf-8", "replace")
                cookie = response.headers.get("Set-Cookie", "")
            finally:
                client.close()
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
            secret = re.search(rf"{self.cookies[1]}=([^;]+)", cookie)
            signed_in = 'class="signout"' in page
            if response.status != 200 or not signed_in or not token or not secret:
                raise SignInFailed(
                    f"member {member['username']} is not signed in on /papers/{self.papers[0]} (status "
                    f"{response.status}, sign-out form {'found' if signed_in else 'missing'}, CSRF token "
                    f"{'found' if token and secret else 'missing'}): have the site's sessions or CSRF changed?"
                )
            member["csrf"], member["csrf_cookie"] = token.group(1), secret.group(1)

    def run(self, connections: int, seconds: float, max_votes: int, stop: threading.Event) -> None:
        """Vote on `connections` threads until `seconds` pass, `max_votes` are sent or `stop` is set."""
        started = time.monotonic()
        budget = [max_votes]
        threads = [
            threading.Thread(
                target=self._drive, args=(self.members[i::connections], started + seconds, budget, stop, i)
            )
            for i in range(connections)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.seconds = time.monotonic() - started

    def _drive(self, members: list[dict], deadline: float, budget: list[int], stop: threading.Event, i: int) -> None:
        rng = random.Random(self.seed + i)
        slots: dict[tuple[int, int], HTTPConnection] = {}
        turn = 0
        while members and time.monotonic() < deadline and not stop.is_set():
            member = members[turn % len(members)]
            turn += 1
            pair = (member["username"], rng.choice(self.papers))
            if pair in self.uncertain:
                continue
            with self.lock:
                if budget[0] <= 0:
                    break
                budget[0] -= 1
            up = not self.state.get(pair, False)
            times = 2 if rng.random() < DOUBLE_CLICK else 1
            sent = [self._send(slots, (member["port"], slot), member, pair[1], up) for slot in range(times)]
            answers = [self._answer(slots, key, member, pair[1], up, start) for key, start in sent]
            with self.lock:
                if any(answers):
                    self.state[pair] = up
                    self.acknowledged["up" if up else "down"] += 1
                    self.acknowledged["double clicks"] += times == 2
                else:
                    self.uncertain.add(pair)
            # A double click's connections are closed: while the second answer is awaited the first connection
            # idles, and gunicorn drops a kept-alive connection idle for longer than its keep-alive (2 s). Others
            # now and then, as visitors come and go.
            for key in [key for key in slots if times == 2 or rng.randrange(self.per_connection) == 0]:
                slots.pop(key).close()
        for client in slots.values():
            client.close()

    def _cookie(self, member: dict) -> str:
        session = f"{self.cookies[0]}={member['session']}"
        return f"{session}; {self.cookies[1]}={member['csrf_cookie']}" if "csrf_cookie" in member else session

    def _send(self, slots: dict, key: tuple[int, int], member: dict, paper: str, up: bool) -> tuple:
        """Write one vote on the connection `key` (port, slot); (key, start time), or (key, None) when it broke."""
        body = urlencode({"csrfmiddlewaretoken": member["csrf"], "next": f"/papers/{paper}", "vote": int(up)})
        headers = {
            "Cookie": self._cookie(member),
            "Content-Type": "application/x-www-form-urlencoded",
            "HX-Request": "true",
            "Origin": f"http://127.0.0.1:{key[0]}",
        }
        start = time.perf_counter()
        try:
            if key not in slots:
                slots[key] = HTTPConnection("127.0.0.1", key[0], timeout=60)
            slots[key].request("POST", f"/papers/{paper}/vote", body=body, headers=headers)
            return key, start
        except (OSError, HTTPException) as error:
            self._drop(slots, key, error)
            return key, None

    def _answer(self, slots: dict, key, member: dict, paper: str, up: bool, start: float | None) -> bool:
        """Read the answer to a vote sent on `key` (sending it again if the connection broke): acknowledged?"""
        for _ in range(ATTEMPTS):
            if start is None:
                _, start = self._send(slots, key, member, paper, up)
                if start is None:
                    continue
            try:
                response = slots[key].getresponse()
                page = response.read().decode("utf-8", "replace")
            except (OSError, HTTPException) as error:
                self._drop(slots, key, error)
                start = None
                continue
            with self.lock:
                self.latencies_ms.append((time.perf_counter() - start) * 1000)
                self.statuses[str(response.status)] += 1
            if response.status != 200:
                return False
            pressed = re.search(r'aria-pressed="(true|false)"', page)
            if not pressed or (pressed.group(1) == "true") != up:
                with self.lock:
                    self.wrong_answers.append(f"{paper} vote={int(up)}: {pressed.group(0) if pressed else 'no button'}")
            return True
        return False

    def _drop(self, slots: dict, key, error: Exception) -> None:
        with self.lock:
            self.connection_errors[type(error).__name__] += 1
        client = slots.pop(key, None)
        if client:
            client.close()

    def shown_counts(self) -> dict[str, int]:
        """For each paper voted on, one member sends their acknowledged state again: the count its button shows.

        Sending a state again changes nothing, and a signed-in answer is never a cached one.
        """
        shown: dict[str, int] = {}
        slots: dict = {}
        by_name = {member["username"]: member for member in self.members}
        for (username, paper), up in sorted(self.state.items()):
            if paper in shown or (username, paper) in self.uncertain:
                continue
            member = by_name[username]
            key, start = self._send(slots, (member["port"], 0), member, paper, up)
            try:
                response = slots[key].getresponse()
                page = response.read().decode("utf-8", "replace")
            except (OSError, HTTPException, KeyError):
                shown[paper] = -1
                continue
            count = re.search(r"▲</span>\s*(\d+)", page)
            shown[paper] = int(count.group(1)) if response.status == 200 and count else -1
        for client in slots.values():
            client.close()
        return shown
