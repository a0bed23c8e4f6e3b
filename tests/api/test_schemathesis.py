"""Schemathesis against the live API's own /openapi.json: generated requests (examples, coverage,
fuzzing and stateful sequences) over real HTTP to the test server, as an admin, on PostgreSQL.

Bounded: at most MAX_EXAMPLES cases per operation, one worker, a fixed seed (override with
LAUNCHDECK_SCHEMATHESIS_SEED to explore), each request timing out after 10 s, and the whole run
killed after RUN_TIMEOUT seconds. Only the loopback server is contacted: the schema and every
request go to 127.0.0.1, and proxies are switched off for the subprocess.

The bar is zero server errors and zero responses that contradict the schema. The runs are marked
xfail(strict=True) while known bugs make them fail; the reasons list them. A fixed bug turns the
xfail into a failure, which tells the fixer to remove the marker. To see what a run finds while
it is marked, run `pytest tests/api/test_schemathesis.py --runxfail`.
"""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

MAX_EXAMPLES = 15
RUN_TIMEOUT = 150
SEED = os.environ.get("LAUNCHDECK_SCHEMATHESIS_SEED", "20261122")


def _run_schemathesis(
    api_server: str, token: str, workdir: Path, *options: str
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    assert api_server.startswith("http://127.0.0.1:"), "schemathesis may only talk to the loopback test server"
    environment = {
        name: value
        for name, value in os.environ.items()
        if name.lower() not in ("http_proxy", "https_proxy", "all_proxy", "no_proxy")
    }
    environment["NO_PROXY"] = environment["no_proxy"] = "127.0.0.1,localhost"
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{api_server}/openapi.json",
        *options,
        "--seed",
        SEED,
        "--workers",
        "1",
        "--request-timeout",
        "10",
        "--generation-database",
        "none",
        "--no-color",
        "--header",
        f"Authorization: Bearer {token}",
        "--report",
        "json",
        "--report-json-path",
        str(workdir / "report.json"),
    ]
    try:
        result = subprocess.run(
            command,
            cwd=workdir,  # no schemathesis.toml of the project's is picked up, reports stay in tmp
            env=environment,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        so_far = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else exc.stdout or ""
        pytest.fail(f"schemathesis ran longer than {RUN_TIMEOUT} s; output so far:\n{so_far}")
    report_path = workdir / "report.json"
    assert report_path.exists(), f"schemathesis did not run:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    report: dict[str, Any] = json.loads(report_path.read_text())
    assert report["complete"], f"schemathesis stopped early ({report['stop_reason']}):\n{result.stdout[-4000:]}"
    assert report["operations"]["tested"] > 0, "schemathesis tested no operation"
    return result, report


def _summary(report: dict[str, Any], output: str) -> str:
    """Which failures on which operations, then schemathesis's own account with a curl for each."""
    lines = [
        f"{failure['code']} {failure['title']} x{failure['count']}: {', '.join(failure['operations'])}"
        for failure in report["failures"]
    ]
    lines += [f"error: {error}" for error in report["errors"]]
    start = output.find("FAILURES")
    details = output[start:] if start >= 0 else output[-6000:]
    return "\n".join(lines) + "\n\n" + details


# On PostgreSQL, the stricter of the two stores: it refuses text SQLite keeps (too long for its
# column, or with a NUL), so what the API lets through to it is what can break; the API code is
# the same on both, and a run costs 40 s or more, so it runs on the backend that can fail.
@pytest.mark.parametrize("engine", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_no_server_errors_every_response_matches_the_schema_and_every_status_is_documented(
    api_server: str, tokens: dict[str, str], tmp_path: Path
) -> None:
    """Every phase (examples, coverage, fuzzing, stateful), MAX_EXAMPLES cases per operation, as an
    admin: no server error, every response as the schema says, and every status code documented
    (one run checks all three)."""
    result, report = _run_schemathesis(
        api_server,
        tokens["admin"],
        tmp_path,
        "--checks",
        "not_a_server_error,response_schema_conformance,status_code_conformance",
        "--max-examples",
        str(MAX_EXAMPLES),
    )
    found = report["failures"] or report["errors"] or result.returncode != 0
    assert not found, "schemathesis found failures:\n" + _summary(report, result.stdout)
