"""prefect.yaml stays in step with the code: every entrypoint is a Prefect flow, parameters match
its signature, schedules parse."""

import importlib
import inspect
from pathlib import Path

import pytest
import yaml
from prefect import Flow

ROOT = Path(__file__).resolve().parents[2]  # the repository: this file is tests/<folder>/<name>.py
DEPLOYMENTS = yaml.safe_load((ROOT / "prefect.yaml").read_text())["deployments"]


@pytest.mark.parametrize("deployment", DEPLOYMENTS, ids=lambda d: d["name"])
def test_each_deployment_points_at_a_flow_with_matching_parameters(deployment):
    path, _, name = deployment["entrypoint"].partition(":")
    module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
    target = getattr(module, name)
    assert isinstance(target, Flow)
    accepted = set(inspect.signature(target.fn).parameters)
    assert set(deployment.get("parameters", {})) <= accepted
    assert deployment["work_pool"]["name"] == "launchdeck"
    for schedule in deployment.get("schedules", []):
        assert ("cron" in schedule) != ("interval" in schedule)


def test_the_scheduled_side_is_deployed():
    names = {deployment["name"] for deployment in DEPLOYMENTS}
    assert {"sweep", "overdue-reminders", "leadership-digest", "advance-region"} <= names
