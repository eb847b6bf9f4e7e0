"""The weekly flow runs end to end on the replica, twice in ONE Python process (no
ReactorNotRestartable, no duplicates), with Prefect's ephemeral server (no PREFECT_API_URL)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

SCRIPT = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    from flows import prefect_env
    warehouse = sys.argv[1]
    prefect_env.configure(Path(warehouse).parent)
    from flows.monitoring import monitoring_run
    from flows.stages import summary
    from replica.server import Replica
    out = []
    with Replica() as replica:
        for _ in range(2):
            result = monitoring_run(sources=["miit_licences"], warehouse=warehouse, replica_url=replica.base_url,
                                       solver="replica",
                                       export_root=sys.argv[2])
            out.append({"load": result["load"], "summary": summary(warehouse), "export": result["export"],
                        "complete": {s: m.complete for s, m in result["manifests"].items()},
                        "crashed": result["crashed"]})
        from prefect.client.orchestration import get_client
        with get_client(sync_client=True) as client:
            keys = sorted({a.key for a in client.read_artifacts()})
    print("RESULT " + json.dumps({"runs": out, "artifacts": keys}, default=str))
""")


def test_weekly_flow_runs_twice_in_one_process(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "data" / "w.duckdb"), str(tmp_path / "exports")],
        capture_output=True,
        text=True,
        timeout=400,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "ReactorNotRestartable" not in done.stderr
    assert "database is locked" not in done.stderr
    [line] = [x for x in done.stdout.splitlines() if x.startswith("RESULT ")]
    result = json.loads(line.removeprefix("RESULT "))
    first, second = result["runs"]
    assert result["artifacts"] == ["operator-risk", "weekly-summary"]
    assert first["complete"] == {"miit_licences": True} and not first["crashed"]
    assert first["load"]["new"] > 0
    assert second["load"]["new"] == 0 and second["load"]["changed"] == 0 and second["load"]["removed"] == 0
    assert first["summary"]["records_by_source"] == second["summary"]["records_by_source"]
    assert second["summary"]["runs"] == 2
    assert Path(first["export"][0]).exists()
