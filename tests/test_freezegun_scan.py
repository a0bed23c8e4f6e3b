"""freezegun with the suite's cheaper module fingerprint (tests/support/freezegun_scan.py) still
reaches every module that holds the real datetime, including one that took it after a scan."""

import datetime
import sys
import types
from collections.abc import Iterator

import pytest
from freezegun import freeze_time

FROZEN = datetime.datetime(2026, 3, 1, 9, 0)


@pytest.fixture
def late_module() -> Iterator[types.ModuleType]:
    module = types.ModuleType("launchdeck_test_late_datetime")
    sys.modules[module.__name__] = module
    yield module
    del sys.modules[module.__name__]


def test_a_module_that_imports_datetime_after_a_freeze_sees_the_next_freeze(late_module: types.ModuleType) -> None:
    with freeze_time(FROZEN):  # scanned (and cached) while the module holds no datetime
        pass
    late_module.datetime = datetime.datetime  # type: ignore[attr-defined]  # a late `from datetime import datetime`
    with freeze_time(FROZEN):
        assert late_module.datetime.now() == FROZEN
    assert late_module.datetime is datetime.datetime  # given back when the freeze ends


def test_a_module_scanned_before_keeps_seeing_frozen_time(late_module: types.ModuleType) -> None:
    late_module.datetime = datetime.datetime  # type: ignore[attr-defined]
    for day in (1, 2, 3):
        with freeze_time(FROZEN.replace(day=day)):
            assert late_module.datetime.now().day == day
