"""The emulator server's own middleware (tools/emulator_server.py ErrorLog), driven as WSGI with a
stand-in for moto: what it records, and which retries it answers without asking moto again."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from tools import emulator_server
from tools.emulator_server import ErrorLog


class Moto:
    """A stand-in app: answers with the next status given, counts the calls."""

    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses)
        self.calls = 0

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        status = self.statuses[self.calls]
        self.calls += 1
        start_response(f"{status} X", [("Content-Type", "text/xml"), ("X-Call", str(self.calls))])
        return [f"<call>{self.calls}</call>".encode()]


def request(
    log: ErrorLog, invocation: str | None, attempt: int | None, action: str = "CreateSecret"
) -> tuple[str, dict[str, str], bytes]:
    body = f"Action={action}".encode()
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/",
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
    }
    if invocation is not None:
        environ["HTTP_AMZ_SDK_INVOCATION_ID"] = invocation
    if attempt is not None:
        environ["HTTP_AMZ_SDK_REQUEST"] = f"attempt={attempt}; max=2"
    answer: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], *rest: Any) -> None:
        answer.update(status=status, headers=dict(headers))

    chunks = b"".join(log(environ, start_response))
    return answer["status"], answer["headers"], chunks


def records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "errors.jsonl"


def test_a_retry_of_an_answered_invocation_gets_the_same_answer_without_running_again(path: Path) -> None:
    moto = Moto(200, 400)
    log = ErrorLog(moto, str(path))
    first = request(log, "inv-1", 1)
    again = request(log, "inv-1", 2)
    assert moto.calls == 1
    assert again == first
    assert records(path) == [
        {
            "method": "POST",
            "path": "/",
            "operation": "CreateSecret",
            "status": 200,
            "response": "replayed: the client lost this answer",
            "replayed": True,
        }
    ]


def test_an_answered_client_error_is_replayed_too(path: Path) -> None:
    moto = Moto(400, 200)
    log = ErrorLog(moto, str(path))
    assert request(log, "inv-1", 1)[0] == request(log, "inv-1", 2)[0] == "400 X"
    assert moto.calls == 1
    assert [r.get("replayed", False) for r in records(path)] == [False, True]


def test_a_server_error_is_asked_again(path: Path) -> None:
    """A missing action (moto's 500) must be refused on every attempt, so the gap list sees it."""
    moto = Moto(500, 500)
    log = ErrorLog(moto, str(path))
    request(log, "inv-1", 1)
    request(log, "inv-1", 2)
    assert moto.calls == 2
    assert [r["status"] for r in records(path)] == [500, 500]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (("inv-1", 1), ("inv-2", 2)),  # another invocation
        (("inv-1", 1), ("inv-1", 1)),  # a first attempt is a new call (same id, e.g. reused by a client)
        ((None, None), (None, 2)),  # no invocation id: nothing to match
    ],
)
def test_only_a_retry_of_the_same_invocation_is_replayed(
    path: Path, first: tuple[str | None, int | None], second: tuple[str | None, int | None]
) -> None:
    moto = Moto(200, 200)
    log = ErrorLog(moto, str(path))
    request(log, *first)
    request(log, *second)
    assert moto.calls == 2
    assert path.read_text() == ""


def test_it_keeps_a_bounded_number_of_answers(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(emulator_server, "REPLAYS_KEPT", 2)
    moto = Moto(*[200] * 5)
    log = ErrorLog(moto, str(path))
    for invocation in ("a", "b", "c"):
        request(log, invocation, 1)
    assert list(log.answered) == ["b", "c"]
    request(log, "a", 2)  # forgotten: asked again
    assert moto.calls == 4


def test_failed_requests_are_recorded_with_their_operation(path: Path) -> None:
    log = ErrorLog(Moto(404), str(path))
    request(log, None, None, action="DescribeSecret")
    (record,) = records(path)
    assert record["operation"] == "DescribeSecret"
    assert record["status"] == 404
    assert record["response"] == "<call>1</call>"
    assert "replayed" not in record
