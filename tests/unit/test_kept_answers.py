"""Kept answers (`web.answers`): one computation for many clients, never a stale answer.

Issue 14. The middleware is driven here as uvicorn drives it, by ASGI calls on one event
loop, over a counting application that answers only when the test lets it.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from web.answers import Answers
from web.heads import SharedHeadReads


class Application:
    """An ASGI app that counts what it is asked and answers when `release` is set."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.computed = 0
        self.release = asyncio.Event()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.computed += 1
        number = self.computed
        await self.release.wait()
        await send({"type": "http.response.start", "status": self.status, "headers": []})
        await send({"type": "http.response.body", "body": f"answer {number}".encode()})


async def ask(
    answers: Answers, path: str = "/api/agreements/x", slow: asyncio.Event | None = None
) -> tuple[int, bytes]:
    """One GET; with `slow`, a client that takes the answer's body only once it is set."""
    scope = {"type": "http", "method": "GET", "path": path, "query_string": b"", "headers": []}
    reply: dict[str, Any] = {}

    async def send(message: Any) -> None:
        if slow is not None and message["type"] == "http.response.body":
            await slow.wait()
        if message["type"] == "http.response.start":
            reply["status"] = message["status"]
        else:
            reply["body"] = reply.get("body", b"") + message.get("body", b"")

    async def receive() -> Any:
        return {"type": "http.request", "body": b""}

    await answers(scope, receive, send)
    return reply["status"], reply["body"]


async def many(answers: Answers, app: Application, count: int) -> list[tuple[int, bytes]]:
    asked = [asyncio.create_task(ask(answers)) for _ in range(count)]
    await asyncio.sleep(0)  # every request is in before the first answer comes
    app.release.set()
    return list(await asyncio.gather(*asked))


def test_clients_asking_the_same_question_at_once_share_one_computation() -> None:
    async def scenario() -> None:
        app = Application()
        answers = Answers(app, head=lambda: 7)
        replies = await many(answers, app, 32)
        assert app.computed == 1
        assert replies == [(200, b"answer 1")] * 32

    asyncio.run(scenario())


def test_a_slow_first_client_holds_up_no_one_who_waits_for_its_answer() -> None:
    async def scenario() -> None:
        app = Application()
        answers = Answers(app, head=lambda: 7)
        reading = asyncio.Event()  # the first client's connection is slow: never read here
        first = asyncio.create_task(ask(answers, slow=reading))
        await asyncio.sleep(0)
        others = [asyncio.create_task(ask(answers)) for _ in range(3)]
        await asyncio.sleep(0)
        app.release.set()
        for _ in range(100):  # turns of the event loop, not time: ample for three replays
            await asyncio.sleep(0)
        answered = [task.done() for task in others]
        reading.set()  # let everyone finish either way, then judge
        replies = await asyncio.gather(first, *others)
        assert answered == [True] * 3
        assert replies == [(200, b"answer 1")] * 4
        assert app.computed == 1

    asyncio.run(scenario())


def test_after_the_log_grows_the_next_question_is_computed_again() -> None:
    async def scenario() -> None:
        app = Application()
        app.release.set()
        head = [7]
        answers = Answers(app, head=lambda: head[0])
        assert await ask(answers) == (200, b"answer 1")
        assert await ask(answers) == (200, b"answer 1")  # kept
        head[0] = 8  # an import from the CLI
        assert await ask(answers) == (200, b"answer 2")
        assert app.computed == 2

    asyncio.run(scenario())


def test_an_answer_that_cannot_be_kept_is_computed_by_each_who_waited() -> None:
    async def scenario() -> None:
        app = Application(status=503)
        answers = Answers(app, head=lambda: 7)
        replies = await many(answers, app, 4)
        assert app.computed == 4
        assert sorted(replies) == [(503, f"answer {n}".encode()) for n in range(1, 5)]

    asyncio.run(scenario())


def test_an_answer_computed_while_the_log_grew_is_not_given_to_those_who_waited() -> None:
    async def scenario() -> None:
        app = Application()
        heads = iter([7, 7, 7, 8, 8, 8, 8, 8])  # the first answer is done after an import
        answers = Answers(app, head=lambda: next(heads))
        replies = await many(answers, app, 3)
        assert app.computed == 3  # 2 and 3 waited for 1, whose answer may predate 8
        assert replies[0] == (200, b"answer 1")

    asyncio.run(scenario())


async def exchange(answers: Answers, headers: list[tuple[bytes, bytes]]) -> list[Any]:
    """The ASGI messages one GET is answered with."""
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/api/x",
        "query_string": b"",
        "headers": headers,
    }
    sent: list[Any] = []

    async def send(message: Any) -> None:
        sent.append(message)

    async def receive() -> Any:
        return {"type": "http.request", "body": b""}

    await answers(scope, receive, send)
    return sent


class Headed:
    """An ASGI app answering with headers of its own, as the application behind does."""

    computed = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.computed += 1
        headers = [
            (b"content-length", b"2"),
            (b"content-type", b"application/json"),
            (b"content-security-policy", b"default-src 'none'"),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"[]"})


def test_an_answer_given_again_has_every_header_it_was_given_with_and_its_etag() -> None:
    async def scenario() -> None:
        app = Headed()
        answers = Answers(app, head=lambda: 7)
        first = await exchange(answers, [])
        again = await exchange(answers, [(b"host", b"x")])
        assert app.computed == 1
        assert again[0]["status"] == 200 and again[1]["body"] == b"[]"
        given = dict(again[0]["headers"])
        assert {k: v for k, v in given.items() if k != b"etag"} == dict(first[0]["headers"])
        assert given[b"content-security-policy"] == b"default-src 'none'"
        assert re.fullmatch(rb'"[0-9a-f]{32}"', given[b"etag"])

    asyncio.run(scenario())


def test_a_client_holding_the_kept_answer_is_told_so_with_its_headers_but_no_body() -> None:
    async def scenario() -> None:
        app = Headed()
        answers = Answers(app, head=lambda: 7)
        await exchange(answers, [])
        etag = dict((await exchange(answers, []))[0]["headers"])[b"etag"]
        held = await exchange(answers, [(b"if-none-match", b'"other", ' + etag)])
        assert held[0]["status"] == 304 and held[1]["body"] == b""
        headers = dict(held[0]["headers"])
        assert headers[b"etag"] == etag
        assert headers[b"content-security-policy"] == b"default-src 'none'"
        assert b"content-length" not in headers
        other = await exchange(answers, [(b"if-none-match", b'"other"')])
        assert other[0]["status"] == 200 and other[1]["body"] == b"[]"
        assert app.computed == 1

    asyncio.run(scenario())


class Encoding:
    """An ASGI app whose answer depends on the encodings asked for, as the application's
    compression makes it."""

    computed = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.computed += 1
        asked = dict(scope["headers"]).get(b"accept-encoding", b"none")
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"encoded for " + asked})


def test_an_answer_is_kept_per_way_of_asking_for_it_and_given_only_to_who_asks_alike() -> None:
    async def scenario() -> None:
        app = Encoding()
        answers = Answers(app, head=lambda: 7)
        gzip = [(b"accept-encoding", b"gzip, deflate")]
        bodies = [
            (await exchange(answers, headers))[1]["body"]
            for headers in (gzip, [], gzip, [], [(b"accept-encoding", b"br")])
        ]
        assert bodies == [
            b"encoded for gzip, deflate",
            b"encoded for none",
            b"encoded for gzip, deflate",
            b"encoded for none",
            b"encoded for br",
        ]
        assert app.computed == 3

    asyncio.run(scenario())


def test_when_the_log_cannot_be_read_the_application_answers_and_nothing_is_kept() -> None:
    async def scenario() -> None:
        app = Application()
        app.release.set()
        reachable = [False]

        def head() -> int:
            if not reachable[0]:
                raise OSError("the database server is down")
            return 7

        answers = Answers(app, head=head)
        assert await ask(answers) == (200, b"answer 1")  # the application's own answer
        assert await ask(answers) == (200, b"answer 2")  # nothing was kept
        reachable[0] = True
        assert await ask(answers) == (200, b"answer 3")
        assert await ask(answers) == (200, b"answer 3")  # kept, now that it can be

    asyncio.run(scenario())


# -- the head on PostgreSQL: one read shared by the requests that arrive during another --


class Log:
    """A log head read as PostgreSQL would answer it: each read takes until `finish`."""

    def __init__(self) -> None:
        self.head = 7
        self.reads = 0
        self.finish: asyncio.Event = asyncio.Event()

    async def read(self) -> int:
        self.reads += 1
        seen = self.head  # the read's snapshot is taken when it starts
        await self.finish.wait()
        self.finish = asyncio.Event()
        return seen


def test_requests_arriving_together_share_one_read_of_the_head() -> None:
    async def scenario() -> None:
        log = Log()
        shared = SharedHeadReads(log.read)
        asked = [asyncio.create_task(shared()) for _ in range(32)]
        await asyncio.sleep(0)
        log.finish.set()
        assert await asyncio.gather(*asked) == [7] * 32
        assert log.reads == 1

    asyncio.run(scenario())


def test_a_request_arriving_during_a_read_waits_for_one_that_began_after_it() -> None:
    # The read under way may have taken its snapshot before an import this request saw
    # committed: the request must not be given it.
    async def scenario() -> None:
        log = Log()
        shared = SharedHeadReads(log.read)
        early = asyncio.create_task(shared())
        while log.reads == 0:
            await asyncio.sleep(0)  # until the first read is under way, with head 7
        log.head = 8  # an import commits; then a request comes
        late = [asyncio.create_task(shared()) for _ in range(5)]
        await asyncio.sleep(0)
        log.finish.set()
        assert await early == 7
        await asyncio.sleep(0)
        log.finish.set()
        assert await asyncio.gather(*late) == [8] * 5
        assert log.reads == 2  # the five late ones shared the second read

    asyncio.run(scenario())


def test_a_read_not_yet_sent_is_shared_by_who_asks_before_it_is() -> None:
    async def scenario() -> None:
        log = Log()
        shared = SharedHeadReads(log.read)
        # The second asks after the first started a read, but before that read's task
        # has run (and sent its query).
        first, second = asyncio.create_task(shared()), asyncio.create_task(shared())
        while log.reads == 0:
            await asyncio.sleep(0)
        log.finish.set()
        both = asyncio.gather(first, second)
        assert await asyncio.wait_for(both, 10) == [7, 7]  # a deadlock guard, not a timing
        assert log.reads == 1

    asyncio.run(scenario())


def test_a_failed_read_fails_its_waiters_and_the_next_request_reads_again() -> None:
    async def scenario() -> None:
        calls = 0

        async def read() -> int:
            nonlocal calls
            calls += 1
            if calls == 1:
                raise ConnectionError("server restarting")
            return 9

        shared = SharedHeadReads(read)
        failed = await asyncio.gather(shared(), shared(), return_exceptions=True)
        assert all(isinstance(error, ConnectionError) for error in failed)
        assert await shared() == 9

    asyncio.run(scenario())


def test_kept_answers_take_the_head_from_an_asynchronous_reader() -> None:
    async def scenario() -> None:
        app = Application()
        head = [7]

        async def read() -> int:
            return head[0]

        answers = Answers(app, head=SharedHeadReads(read))
        app.release.set()
        assert await ask(answers) == (200, b"answer 1")
        assert await ask(answers) == (200, b"answer 1")  # kept
        head[0] = 8
        assert await ask(answers) == (200, b"answer 2")  # the log grew: computed again

    asyncio.run(scenario())
