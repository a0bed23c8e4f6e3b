"""`launchdeck beta ...`: cohorts and enrollment, feedback and its ranking, from the terminal."""

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from cli.context import cli_actor, open_session
from cli.errors import friendly_errors
from orchestrator.beta import cohorts as beta_cohorts
from orchestrator.beta import feedback as beta_feedback
from orchestrator.beta import queries as beta_queries
from orchestrator.beta.criteria import set_exit_criteria
from orchestrator.beta.scoring import ranked_feedback
from orchestrator.core.enums import EnrollmentVia, ExitMetric, FeedbackType, Phase
from orchestrator.core.errors import InvalidInput
from orchestrator.launches.queries import launch_id_for

app = typer.Typer(help="Beta programs: cohorts, enrollment, feedback and its ranking.", no_args_is_help=True)
console = Console(soft_wrap=True)

Slug = Annotated[str, typer.Argument(help="The launch's slug.")]


def parse_exit_criteria(values: list[str]) -> dict[Phase, dict[ExitMetric, int]]:
    """``private_beta:open_severity_1=0,active_accounts=20`` (one phase per value) to criteria."""
    criteria: dict[Phase, dict[ExitMetric, int]] = {}
    for raw in values:
        phase_text, _, pairs = raw.partition(":")
        try:
            phase = Phase(phase_text.strip())
        except ValueError:
            raise InvalidInput("--beta-exit", f"{raw!r}: start with the beta phase, e.g. private_beta:...") from None
        thresholds = criteria.setdefault(phase, {})
        for pair in filter(None, (part.strip() for part in pairs.split(","))):
            name, _, number = pair.partition("=")
            try:
                thresholds[ExitMetric(name.strip())] = int(number)
            except ValueError:
                known = ", ".join(metric.value for metric in ExitMetric)
                raise InvalidInput("--beta-exit", f"{pair!r}: use metric=number; metrics: {known}") from None
        if not thresholds:
            raise InvalidInput("--beta-exit", f"{raw!r} names no criterion, e.g. {phase.value}:open_severity_1=0")
    return criteria


def _split(values: str) -> list[str]:
    return [value.strip() for value in values.split(",") if value.strip()]


@app.command("cohort")
@friendly_errors
def cohort_create(
    slug: Slug,
    region: Annotated[str, typer.Option(help="Region code, e.g. EU.")],
    phase: Annotated[Phase, typer.Option(help="private_beta or public_beta.")],
    cap: Annotated[int, typer.Option(min=1, help="At most this many enrolled accounts; the rest wait.")],
    plans: Annotated[str, typer.Option(help="Eligible plans, comma-separated; empty admits any.")] = "",
    segments: Annotated[str, typer.Option(help="Eligible segments, comma-separated; empty admits any.")] = "",
) -> None:
    """Open a cohort for one beta phase in one region."""
    with open_session() as session:
        cohort = beta_cohorts.create_cohort(
            session=session,
            launch_id=launch_id_for(session=session, slug=slug),
            region_code=region,
            phase=phase,
            cap=cap,
            plans=_split(plans),
            segments=_split(segments),
            actor=cli_actor(),
        )
    console.print(f"[green]created[/] cohort {cohort.id}: {slug} {region} {phase.value}, cap {cap}")


@app.command("cohorts")
@friendly_errors
def cohorts_list(slug: Slug) -> None:
    """The launch's cohorts with their seats."""
    with open_session() as session:
        views = beta_queries.cohort_views(session, launch_id=launch_id_for(session=session, slug=slug))
    table = Table(title=f"Beta cohorts of {slug}", title_justify="left")
    for column in ("Id", "Region", "Phase", "Cap", "Enrolled", "Active", "Waitlisted", "Opted out", "Eligibility"):
        table.add_column(column)
    for view in views:
        rules = "; ".join(f"{key}: {', '.join(values)}" for key, values in view.cohort.eligibility.items() if values)
        table.add_row(
            str(view.cohort.id),
            view.region,
            view.cohort.phase.value,
            str(view.cohort.cap),
            str(view.enrolled),
            str(view.active),
            str(view.waitlisted),
            str(view.opted_out),
            rules or "anyone",
        )
    console.print(table)


@app.command("enroll")
@friendly_errors
def enroll(
    cohort_id: Annotated[int, typer.Argument(help="The cohort's id (see `beta cohorts`).")],
    account: Annotated[str, typer.Argument(help="The account's id.")],
    via: Annotated[EnrollmentVia, typer.Option(help="invite, nomination or self.")] = EnrollmentVia.INVITE,
    plan: Annotated[str, typer.Option(help="The account's plan.")] = "",
    segment: Annotated[str, typer.Option(help="The account's segment.")] = "",
    account_region: Annotated[str | None, typer.Option(help="The account's region (default: the cohort's).")] = None,
    terms_accepted_by: Annotated[str | None, typer.Option(help="Who accepted the beta terms.")] = None,
) -> None:
    """Enroll an account, or waitlist it when the cohort is full. Opted-out accounts are refused."""
    with open_session() as session:
        row = beta_cohorts.enroll(
            session=session,
            cohort_id=cohort_id,
            account=account,
            via=via,
            plan=plan,
            segment=segment,
            account_region=account_region,
            terms_accepted_by=terms_accepted_by,
            actor=cli_actor(),
        )
    console.print(f"{account}: [bold]{row.status.value}[/] (enrollment {row.id})")


@app.command("terms")
@friendly_errors
def terms(
    enrollment_id: Annotated[int, typer.Argument(help="The enrollment's id.")],
    accepted_by: Annotated[str, typer.Option(help="Who accepted the beta terms.")],
) -> None:
    """Record who accepted the beta terms for an enrolled account, and when."""
    with open_session() as session:
        row = beta_cohorts.accept_terms(
            session=session, enrollment_id=enrollment_id, accepted_by=accepted_by, actor=cli_actor()
        )
    console.print(f"{row.account}: terms accepted by {row.terms_accepted_by} at {row.terms_accepted_at:%Y-%m-%d %H:%M}")


@app.command("opt-out")
@friendly_errors
def opt_out(
    cohort_id: Annotated[int, typer.Argument(help="The cohort's id.")],
    account: Annotated[str, typer.Argument(help="The account's id.")],
    reason: Annotated[str | None, typer.Option(help="Why (kept in the audit ledger).")] = None,
) -> None:
    """Take an account out for good; its seat goes to the longest-waiting account."""
    with open_session() as session:
        beta_cohorts.opt_out(session=session, cohort_id=cohort_id, account=account, reason=reason, actor=cli_actor())
    console.print(f"{account}: [bold]opted out[/] (final for this launch's beta)")


@app.command("feedback")
@friendly_errors
def feedback(
    slug: Slug,
    region: Annotated[str, typer.Option(help="Region code.")],
    phase: Annotated[Phase, typer.Option(help="The phase the account is in.")],
    account: Annotated[str, typer.Option(help="The reporting account.")],
    type_: Annotated[FeedbackType, typer.Option("--type", help="bug, gap, praise or question.")],
    severity: Annotated[int, typer.Option(min=1, max=4, help="1 blocks use or loses data ... 4 cosmetic.")],
    text: Annotated[str, typer.Option(help="What happened.")],
    link: Annotated[str | None, typer.Option(help="A link (ticket, recording).")] = None,
) -> None:
    """Log a beta report. Severity 1 in a ramping region halts it."""
    with open_session() as session:
        row = beta_feedback.submit_feedback(
            session=session,
            launch_id=launch_id_for(session=session, slug=slug),
            region_code=region,
            phase=phase,
            account=account,
            type=type_,
            severity=severity,
            text=text,
            link=link,
            actor=cli_actor(),
        )
    console.print(f"[green]logged[/] feedback {row.id}")


@app.command("merge")
@friendly_errors
def merge(
    feedback_id: Annotated[int, typer.Argument(help="The duplicate report.")],
    into: Annotated[int, typer.Option(help="The report it repeats.")],
) -> None:
    """Fold a duplicate into the report it repeats, keeping counts and accounts."""
    with open_session() as session:
        row = beta_feedback.merge_feedback(session=session, feedback_id=feedback_id, into_id=into, actor=cli_actor())
    console.print(f"merged {feedback_id} into {row.id}: {row.reports} report(s) from {len(row.accounts)} account(s)")


@app.command("resolve")
@friendly_errors
def resolve(
    feedback_id: Annotated[int, typer.Argument(help="The report.")],
    reason: Annotated[str | None, typer.Option(help="Fix or answer (kept in the audit ledger).")] = None,
) -> None:
    """Mark a report fixed or answered."""
    with open_session() as session:
        beta_feedback.resolve_feedback(session=session, feedback_id=feedback_id, reason=reason, actor=cli_actor())
    console.print(f"resolved {feedback_id}")


@app.command("ranked")
@friendly_errors
def ranked(
    slug: Slug,
    region: Annotated[str | None, typer.Option(help="Only this region.")] = None,
    phase: Annotated[Phase | None, typer.Option(help="Only this phase.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 20,
) -> None:
    """Open feedback ranked by severity x frequency x reach (the formula is in the README)."""
    with open_session() as session:
        rows = ranked_feedback(
            session=session,
            launch_id=launch_id_for(session=session, slug=slug),
            region=region,
            phase=phase,
            limit=limit,
        )
    table = Table(title=f"Ranked beta feedback of {slug}", title_justify="left")
    for column in ("#", "Score", "Id", "Region", "Phase", "Type", "Sev", "Reports", "Accounts", "Text"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            str(row.rank),
            f"{row.score:g}",
            str(row.feedback_id),
            row.region,
            row.phase.value,
            row.type.value,
            str(row.severity),
            str(row.reports),
            str(row.accounts),
            row.text[:80],
        )
    console.print(table)


@app.command("criteria")
@friendly_errors
def criteria(
    slug: Slug,
    values: Annotated[
        list[str],
        typer.Argument(
            help="Per beta phase: private_beta:open_severity_1=0,active_accounts=20 (replaces that phase's)."
        ),
    ],
) -> None:
    """Set a running launch's beta exit criteria; they gate the phase after each beta."""
    parsed = parse_exit_criteria(values)
    with open_session() as session:
        launch_id = launch_id_for(session=session, slug=slug)
        for phase, thresholds in parsed.items():
            set_exit_criteria(
                session=session, launch_id=launch_id, phase=phase, thresholds=thresholds, actor=cli_actor()
            )
    summary = "; ".join(
        f"{phase.value}: " + ", ".join(f"{metric.value}={value}" for metric, value in thresholds.items())
        for phase, thresholds in parsed.items()
    )
    console.print(f"[green]set[/] exit criteria of {slug}: {summary}; see `launchdeck launch show {slug}`")
