"""Captcha solvers. creditwatch ships no captcha breaker (../shared/reference/README.md).

A captcha pauses the source and asks a solver. `PromptSolver` asks a person at the terminal;
`ReplicaHookSolver` asks the registry replica's test hook (tests and the demo only); with no
solver, the source ends *incomplete* and says why.
"""

from __future__ import annotations

import json
import sys
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


@dataclass
class CaptchaChallenge:
    source: str
    image: bytes
    length: int
    session_id: str | None
    url: str


class CaptchaSolver(Protocol):
    def solve(self, challenge: CaptchaChallenge) -> str | None:
        """Return the captcha's text, or None when it cannot be solved (the source goes incomplete)."""


class NoSolver:
    def solve(self, challenge: CaptchaChallenge) -> str | None:
        return None


class PromptSolver:
    """Save the image and ask a person at the terminal. Non-interactive runs get None."""

    def solve(self, challenge: CaptchaChallenge) -> str | None:
        if not sys.stdin or not sys.stdin.isatty():
            return None
        path = Path(tempfile.gettempdir()) / f"creditwatch-captcha-{challenge.source}.png"
        path.write_bytes(challenge.image)
        answer = input(f"[{challenge.source}] captcha saved to {path}; type its {challenge.length} characters: ")
        return answer.strip() or None


class ReplicaHookSolver:
    """Ask the replica which text it drew for this session (`/__replica__/captcha?sid=`)."""

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


def make_solver(kind: str, replica_url: str | None = None) -> CaptchaSolver:
    """`none`, `prompt` or `replica` (the last needs the replica's base URL)."""
    if kind == "none":
        return NoSolver()
    if kind == "prompt":
        return PromptSolver()
    if kind == "replica":
        if not replica_url:
            raise ValueError("the replica solver needs the replica's URL")
        return ReplicaHookSolver(replica_url)
    raise ValueError(f"unknown captcha solver {kind!r}: use none, prompt or replica")
