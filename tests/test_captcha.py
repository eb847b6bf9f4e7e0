"""The captcha hand-off (spiders/captcha.py): a text captcha is typed by a person at the terminal; a slider cannot
be, so the terminal refuses it, a person at a browser session passes it in the page, and with nobody the reason
names a command that parses. Source-specific flows are tested in each source's module."""

from __future__ import annotations

import asyncio
import contextlib
import io
from typing import Any

import pytest
import typer

from flows.cli import app
from spiders import captcha as handoff
from spiders.captcha import (
    BROWSER_COMMAND,
    SLIDER,
    TEXT,
    BrowserPersonSolver,
    CaptchaChallenge,
    CaptchaRefused,
    NoSolver,
    PromptSolver,
    ReplicaHookSolver,
    SliderPass,
    make_solver,
)
from spiders.settings import build


def slider(page: Any = None, passed: Any = None) -> CaptchaChallenge:
    return CaptchaChallenge("some_source", b"{}", 0, "c" * 32, "https://x/captcha", kind=SLIDER, page=page,
                            passed=passed)


def refusal(solver: Any, challenge: CaptchaChallenge) -> str:
    with pytest.raises(CaptchaRefused) as refused:
        asyncio.run(solver.pass_slider(challenge))
    return str(refused.value)


class Terminal(io.StringIO):
    """What /dev/tty would be: what was written to the person, and the line they type (AB12)."""

    def readline(self, *args: Any) -> str:
        return "AB12\n"


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> Terminal:
    tty = Terminal()
    monkeypatch.setattr(handoff, "_terminal", lambda: contextlib.nullcontext(tty))
    return tty


def test_a_challenge_kind_is_text_or_slider() -> None:
    assert CaptchaChallenge("s", b"", 4, None, "u").kind == TEXT
    with pytest.raises(ValueError, match="unknown captcha kind 'puzzle'"):
        CaptchaChallenge("s", b"", 4, None, "u", kind="puzzle")


def test_the_suggested_command_parses() -> None:
    command = BROWSER_COMMAND.format(source="some_source").split()
    assert command[0] == "creditwatch"
    group = typer.main.get_command(app)
    run = group.get_command(group.make_context("creditwatch", command[1:]), command[1])
    assert run is not None, f"no command {command[1]!r}"
    params = run.make_context(command[1], command[2:]).params
    assert params["browser"] is True and params["source"] == ["some_source"]


def test_nobody_and_a_terminal_refuse_a_slider_naming_the_command(terminal: Terminal) -> None:
    command = BROWSER_COMMAND.format(source="some_source")
    for solver, why in ((NoSolver(), "no captcha solver is configured"),
                        (PromptSolver(), "a person at a terminal, with no browser to drag it in")):
        reason = refusal(solver, slider())
        assert why in reason and f"run `{command}`" in reason and "https://x/captcha" in reason
    assert terminal.getvalue() == ""  # nobody was asked


def test_the_prompt_asks_on_the_terminal_for_a_text_captcha(terminal: Terminal) -> None:
    answer = PromptSolver().solve(CaptchaChallenge("some_source", b"\x89PNG", 4, "sid", "u"))
    assert answer == "AB12"
    assert "type its 4 characters" in terminal.getvalue()


def test_no_terminal_no_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(handoff, "_terminal", lambda: contextlib.nullcontext(None))
    assert PromptSolver().solve(CaptchaChallenge("s", b"", 4, None, "u")) is None
    monkeypatch.setenv("DISPLAY", ":0")

    async def never(page: Any) -> SliderPass:
        raise AssertionError("not waited for")

    assert "no one at a terminal" in refusal(BrowserPersonSolver(), slider(page=object(), passed=never))


def test_a_person_at_a_browser_session_passes_a_slider_in_the_page(terminal: Terminal,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISPLAY", ":0")
    page = object()
    seen: list[Any] = []

    async def passed(where: Any) -> SliderPass:
        seen.append(where)
        await asyncio.sleep(0.01)  # the person drags
        return SliderPass("p" * 32, "token")

    solver = make_solver("prompt", browser=True)
    assert isinstance(solver, BrowserPersonSolver)
    assert asyncio.run(solver.pass_slider(slider(page, passed))) == SliderPass("p" * 32, "token")
    assert seen == [page] and "drag the slider" in terminal.getvalue()
    assert solver.solve(CaptchaChallenge("s", b"\x89PNG", 4, None, "u")) == "AB12"  # text: still the terminal


def test_a_browser_person_refuses_without_a_page_a_display_or_in_time(terminal: Terminal,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    async def slow(page: Any) -> SliderPass:
        await asyncio.sleep(5)
        raise AssertionError("should have timed out")

    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert "no display" in refusal(BrowserPersonSolver(), slider(object(), slow))
    monkeypatch.setenv("DISPLAY", ":0")
    assert "did not run in a browser page" in refusal(BrowserPersonSolver(), slider())
    assert "nobody passed it in the browser within 0 s" in refusal(BrowserPersonSolver(0.05), slider(object(), slow))


def test_one_slider_at_a_time_for_the_one_person(terminal: Terminal, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISPLAY", ":0")
    solver, active, most = BrowserPersonSolver(), [0], [0]

    async def passed(page: Any) -> SliderPass:
        active[0] += 1
        most[0] = max(most[0], active[0])
        await asyncio.sleep(0.01)
        active[0] -= 1
        return SliderPass("p" * 32, "t")

    async def both() -> None:
        await asyncio.gather(*(solver.pass_slider(slider(object(), passed)) for _ in range(3)))

    asyncio.run(both())
    assert most[0] == 1


def test_the_replica_hook_without_an_answer_refuses() -> None:
    unreachable = ReplicaHookSolver("http://127.0.0.1:9")
    assert "had no answer" in refusal(unreachable, slider())


def test_a_browser_session_with_a_person_shows_the_window(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISPLAY", ":0")
    assert build("live", browser=True)["PLAYWRIGHT_LAUNCH_OPTIONS"]["headless"] is False
    assert build("live", {"CREDITWATCH_CAPTCHA_SOLVER": "none"}, browser=True)["PLAYWRIGHT_LAUNCH_OPTIONS"]["headless"]
    assert build("replica", browser=True)["PLAYWRIGHT_LAUNCH_OPTIONS"]["headless"]  # the hook, not a person
    monkeypatch.delenv("DISPLAY")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert build("live", browser=True)["PLAYWRIGHT_LAUNCH_OPTIONS"]["headless"]
    assert build("live", browser=True)["CREDITWATCH_BROWSER"] and not build("live").get("CREDITWATCH_BROWSER")
