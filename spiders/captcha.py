"""Captcha solvers. creditwatch ships no captcha breaker (../shared/reference/README.md).

A captcha pauses the source and asks a solver. Two kinds of challenge exist:
  - `text`: an image whose characters are typed (`solve()` returns them);
  - `slider`: a behavioural captcha (drag a piece into place; Tianai, geetest, …). It cannot be typed: a person
    passes it in the site's own page, in a browser session (`pass_slider()` returns what the site issued).
Solvers:
  - `PromptSolver` -- a person at the terminal: types text captchas; refuses a slider, saying how to run the
    source in a browser session instead;
  - `BrowserPersonSolver` -- a person at a browser session (`--browser` with the `prompt` solver): text captchas at
    the terminal, sliders in the Chromium window, where the spider's `passed` coroutine sees the pass;
  - `ReplicaHookSolver` -- the registry replica's test hook stands in for the person (tests and the demo only);
  - `NoSolver` -- nobody: the source ends *incomplete* and says why (for a slider: what command to run).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import tempfile
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

TEXT = "text"  # type the characters shown in an image
SLIDER = "slider"  # drag a piece into place: a behavioural captcha, passed by a person in the site's own page
KINDS = (TEXT, SLIDER)
SLIDER_WAIT_SECONDS = 300  # how long a person at the browser has to pass one slider
# The command that runs a source with a person at a browser session (tests/test_captcha.py parses it).
BROWSER_COMMAND = "creditwatch run --browser --source {source}"


@dataclass(frozen=True)
class SliderPass:
    """What passing a slider gives: the code the site then accepts (e.g. zxgk's pCode) and the id of the captcha
    it is bound to (the spider's own on the replica; the page's own when a person passed it live)."""

    session_id: str
    code: str


@dataclass
class CaptchaChallenge:
    source: str
    image: bytes  # text: the image; slider: the challenge as fetched (e.g. Tianai's JSON), kept for the record
    length: int  # text: how many characters; slider: 0
    session_id: str | None  # what the captcha is bound to (a session cookie, or the site's captchaId)
    url: str
    kind: str = TEXT
    # A slider in a browser session: the live page (a playwright Page) where the person acts, and the spider's
    # coroutine that waits in that page for the sign that the slider was passed (site knowledge, so the spider's).
    page: Any = None
    passed: Callable[[Any], Awaitable[SliderPass]] | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown captcha kind {self.kind!r}: use {' or '.join(KINDS)}")


class CaptchaRefused(Exception):
    """A solver that cannot answer this challenge; the message is the reason the source's manifest gives."""


class CaptchaSolver(Protocol):
    def solve(self, challenge: CaptchaChallenge) -> str | None:
        """Return a text captcha's characters, or None when it cannot be solved (the source goes incomplete)."""

    async def pass_slider(self, challenge: CaptchaChallenge) -> SliderPass:
        """Have a slider passed; raise CaptchaRefused(reason) when this solver cannot."""


def slider_needs_a_browser(challenge: CaptchaChallenge, why: str) -> str:
    command = BROWSER_COMMAND.format(source=challenge.source)
    return (f"slider captcha at {challenge.url}: {why}. A slider cannot be typed; it needs a person in a browser "
            f"session: run `{command}` at a desktop and drag the slider in the Chromium window (or feed the "
            "source from a file)")


@contextlib.contextmanager
def _terminal() -> Iterator[IO[str] | None]:
    """The controlling terminal, or None. Crawls run in subprocesses whose stdout is captured (flows/stages.py),
    so a question printed there would never be seen: ask on /dev/tty, as getpass does."""
    if not sys.stdin or not sys.stdin.isatty():
        yield None
        return
    try:
        tty = open("/dev/tty", "r+", encoding="utf-8")  # noqa: SIM115 (closed below)
    except OSError:
        yield None
        return
    try:
        yield tty
    finally:
        tty.close()


class NoSolver:
    def solve(self, challenge: CaptchaChallenge) -> str | None:
        return None

    async def pass_slider(self, challenge: CaptchaChallenge) -> SliderPass:
        raise CaptchaRefused(slider_needs_a_browser(challenge, "no captcha solver is configured"))


class PromptSolver:
    """Save the image and ask a person at the terminal. Non-interactive runs get None; a slider is refused."""

    def solve(self, challenge: CaptchaChallenge) -> str | None:
        with _terminal() as tty:
            if tty is None:
                return None
            path = Path(tempfile.gettempdir()) / f"creditwatch-captcha-{challenge.source}.png"
            path.write_bytes(challenge.image)
            tty.write(f"[{challenge.source}] captcha saved to {path}; type its {challenge.length} characters: ")
            tty.flush()
            return tty.readline().strip() or None

    async def pass_slider(self, challenge: CaptchaChallenge) -> SliderPass:
        raise CaptchaRefused(slider_needs_a_browser(challenge, "the prompt solver is a person at a terminal, "
                                                               "with no browser to drag it in"))


def has_display() -> bool:
    """Can a browser window be shown to a person here (X11 or Wayland)?"""
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


class BrowserPersonSolver(PromptSolver):
    """A person at a browser session (`creditwatch run --browser`, the `prompt` solver, a display): text captchas
    are typed at the terminal as with PromptSolver; a slider is passed by the person in the Chromium window, on the
    site's own page, and the spider's `passed` coroutine reads the pass from that page. One slider at a time: the
    person works one page."""

    def __init__(self, wait_seconds: float = SLIDER_WAIT_SECONDS) -> None:
        self.wait_seconds = wait_seconds
        self._one_at_a_time: asyncio.Lock | None = None

    async def pass_slider(self, challenge: CaptchaChallenge) -> SliderPass:
        if challenge.page is None or challenge.passed is None:
            raise CaptchaRefused(slider_needs_a_browser(challenge, "this request did not run in a browser page"))
        if not has_display():
            raise CaptchaRefused(slider_needs_a_browser(challenge, "no display (DISPLAY / WAYLAND_DISPLAY) to show "
                                                                   "the browser window on"))
        self._one_at_a_time = self._one_at_a_time or asyncio.Lock()
        async with self._one_at_a_time:
            with _terminal() as tty:
                if tty is None:
                    raise CaptchaRefused(slider_needs_a_browser(challenge, "no one at a terminal started this run"))
                tty.write(f"[{challenge.source}] slider captcha: in the Chromium window, search on the site's page "
                          f"and drag the slider into place; waiting up to {self.wait_seconds:.0f} s\n")
                tty.flush()
            try:
                return await asyncio.wait_for(challenge.passed(challenge.page), self.wait_seconds)
            except TimeoutError:
                raise CaptchaRefused(slider_needs_a_browser(
                    challenge, f"nobody passed it in the browser within {self.wait_seconds:.0f} s")) from None


class ReplicaHookSolver:
    """Ask the replica which answer it drew for this session (`/__replica__/captcha?sid=`). For a slider the hook
    stands in for the person: it answers the code the site would issue once the slider is passed."""

    def __init__(self, replica_url: str) -> None:
        self.replica_url = replica_url.rstrip("/")

    def solve(self, challenge: CaptchaChallenge) -> str | None:
        if not challenge.session_id:
            return None
        url = f"{self.replica_url}/__replica__/captcha?sid={challenge.session_id}"
        try:
            with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 (loopback only)
                return json.load(answer).get("answer")
        except OSError:
            return None

    async def pass_slider(self, challenge: CaptchaChallenge) -> SliderPass:
        code = self.solve(challenge)
        if not code or not challenge.session_id:
            raise CaptchaRefused(f"slider captcha at {challenge.url}: the replica's hook had no answer for "
                                 f"captcha {challenge.session_id!r}")
        return SliderPass(challenge.session_id, code)


def make_solver(kind: str, replica_url: str | None = None, browser: bool = False) -> CaptchaSolver:
    """`none`, `prompt` or `replica` (the last needs the replica's base URL). `prompt` in a browser session
    (`browser`) is a person who can also pass sliders in the browser window."""
    if kind == "none":
        return NoSolver()
    if kind == "prompt":
        return BrowserPersonSolver() if browser else PromptSolver()
    if kind == "replica":
        if not replica_url:
            raise ValueError("the replica solver needs the replica's URL")
        return ReplicaHookSolver(replica_url)
    raise ValueError(f"unknown captcha solver {kind!r}: use none, prompt or replica")
