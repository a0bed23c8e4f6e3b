"""A cheaper test of "has this module changed?" for freezegun's per-module cache.

Why: each ``freeze_time(...).start()`` walks every loaded module (about 2,400 in a test process
that has imported the API, Prefect and the worker) to swap the real ``datetime``/``time`` objects a
module holds for fakes. freezegun caches what it found per module and trusts the cache while a
fingerprint of the module's names is unchanged; that fingerprint sorts and hashes every name of
every module, 20 ms of each 25 ms start, and the suite starts thousands of freezes (a py-spy
profile put freezegun at 15 % of the domain tests' CPU).

The replacement fingerprint is the module's identity and its number of names. It changes whenever
a module gains or loses a name, which is how a module comes to hold a date or time object after
the scan: a later import, or a module still being imported. Like freezegun's own fingerprint, it
does not notice a name rebound to another value; unlike it, it would miss one name swapped for
another in one step, which no module here does between freezes.
"""

from types import ModuleType

import freezegun.api


def _fingerprint(module: ModuleType) -> str:
    try:
        names = len(vars(module))
    except TypeError:  # something other than a module registered in sys.modules, without a __dict__
        names = len(dir(module))
    return f"{id(module)}-{names}"


def install() -> None:
    """Used by every freeze in this process from now on (tests/conftest.py calls it)."""
    freezegun.api._get_module_attributes_hash = _fingerprint
