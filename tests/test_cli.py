"""The CLI: accurate help, one clear line and a non-zero exit on bad input, data left untouched."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from flows.cli import app

COMMANDS = [
    "run",
    "crawl",
    "load",
    "link",
    "transform",
    "removal",
    "ingest",
    "facts",
    "export",
    "replica",
    "sql",
    "status",
    "doctor",
    "purge",
    "backup",
    "restore",
    "serve",
    "deploy",
    "worker",
]


def cli(*args: str, cwd: Path, timeout: int = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_every_command_is_registered_and_has_help() -> None:
    registered = {c.name or c.callback.__name__ for c in app.registered_commands}
    assert registered == set(COMMANDS)
    for command in app.registered_commands:
        assert (command.callback.__doc__ or "").strip(), f"{command.callback.__name__} has no help text"


@pytest.mark.parametrize("command", COMMANDS)
def test_help_runs(command: str, tmp_path: Path) -> None:
    done = cli(command, "--help", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Usage" in done.stdout


def test_corrupt_warehouse_is_one_line_and_left_untouched(tmp_path: Path) -> None:
    broken = tmp_path / "w.duckdb"
    broken.write_bytes(b"garbage" * 1000)
    done = cli("--warehouse", str(broken), "transform", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.strip().count("\n") == 0 and "not a valid DuckDB file" in done.stderr
    assert "Traceback" not in done.stderr
    assert broken.read_bytes() == b"garbage" * 1000


def test_unknown_source_is_one_line(tmp_path: Path) -> None:
    done = cli("crawl", "no_such_source", cwd=tmp_path)
    assert done.returncode == 1
    assert "unknown source 'no_such_source'" in done.stderr and "miit_licences" in done.stderr
    assert "Traceback" not in done.stderr


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    done = cli("--debug", "crawl", "no_such_source", cwd=tmp_path)
    assert done.returncode != 0 and "Traceback" in done.stderr


def test_port_in_use_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        done = cli("replica", "--port", str(port), cwd=tmp_path)
    assert done.returncode != 0
    assert f"127.0.0.1:{port}" in done.stderr and "Traceback" not in done.stderr


def test_sql_without_a_warehouse_says_what_to_do(tmp_path: Path) -> None:
    done = cli("sql", "select 1", cwd=tmp_path)
    assert done.returncode == 1 and "creditwatch run" in done.stderr


def test_crawl_load_transform_sql_by_hand(tmp_path: Path, quiet_replica) -> None:
    assert (
        cli(
            "crawl", "miit_licences", "--replica-url", quiet_replica.base_url, "--solver", "replica", cwd=tmp_path
        ).returncode
        == 0
    )
    loaded = cli("load", cwd=tmp_path)
    assert loaded.returncode == 0 and "44 new" in loaded.stdout
    assert "loaded before" in cli("load", cwd=tmp_path).stdout
    assert cli("transform", "--as-of", "2026-11-23", cwd=tmp_path).returncode == 0
    answer = cli("sql", "--json", "select count(*) AS n from core.licensed_operators", cwd=tmp_path)
    assert answer.returncode == 0 and answer.stdout.strip() == '{"n": 39}'
    write = cli("sql", "create table marts.x as select 1", cwd=tmp_path)
    assert write.returncode == 1 and "read-only" in write.stderr.lower()


def test_removal_file_interface(tmp_path: Path) -> None:
    cases = tmp_path / "cases.csv"
    cases.write_text(
        "record_id,record_type,platform,penalty_kinds,fine_amount_yuan,domain,severity,decision_date,publish_date,"
        "listed_date,obligations_done_date,corrected_date,term_years\n"
        "a,penalty,creditchina,fine,5000,general,general,2026-05-01,,,2026-05-20,2026-05-20,\n"
        "b,penalty,nowhere,fine,,,,2026-05-01,,,,,\n",
        "utf-8",
    )
    done = cli(
        "removal", "--records", str(cases), "--out", str(tmp_path / "out.csv"), "--as-of", "2026-11-23", cwd=tmp_path
    )
    assert done.returncode == 1 and "line 3" in done.stderr and "Traceback" not in done.stderr
    out = (tmp_path / "out.csv").read_text("utf-8").splitlines()
    assert out[0] == ("record_id,status,early_removal_from,auto_removal_on,display_until,escalation_on,"
                      "removal_deadline,rule_id,basis,confidence,alt_rule_id,alt_early_removal_from,"
                      "alt_auto_removal_on,reason")
    # 36号令 一般, decided 2026-05-01: apply from 2026-08-02, shown through 2027-05-01.
    assert out[1].startswith("a,eligible,2026-08-02,2027-05-02,2027-05-01,,,cc_penalty_36_general,")
