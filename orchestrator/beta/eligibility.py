"""Who may join a beta cohort (rule 2 in ``cohorts``): the account's plan and segment must be among
the cohort's (an empty list admits any), and its region must be the cohort's region or one of its
sub-regions (``NA:CA-QC`` for ``NA``)."""

from sqlmodel import Session

from orchestrator.core.errors import InvalidInput
from orchestrator.core.models import BetaCohort, Region


def eligibility_of(
    session: Session, *, cohort: BetaCohort, plan: str, segment: str, account_region: str | None
) -> dict[str, str]:
    """What the account looks like (kept on its enrollment), refused with the reason unless it is
    eligible. An account given without a region is taken to be in the cohort's."""
    plan, segment = plan.strip(), segment.strip()
    region = session.get(Region, cohort.region_id)
    assert region is not None
    home = (account_region or region.code).strip()
    plans: list[str] = cohort.eligibility.get("plans", [])
    segments: list[str] = cohort.eligibility.get("segments", [])
    if plans and plan not in plans:
        given = f"{plan!r} is not eligible for this cohort" if plan else "this cohort admits only some plans: give it"
        raise InvalidInput("plan", f"{given}; eligible plans: {', '.join(plans)}")
    if segments and segment not in segments:
        given = (
            f"{segment!r} is not eligible for this cohort"
            if segment
            else "this cohort admits only some segments: give it"
        )
        raise InvalidInput("segment", f"{given}; eligible segments: {', '.join(segments)}")
    if home != region.code and not home.startswith(f"{region.code}:"):
        raise InvalidInput(
            "account_region", f"{home!r} is outside this cohort's region {region.code} (or its sub-regions)"
        )
    return {"plan": plan, "segment": segment, "region": home}
