"""The retro as Markdown: one renderer for the export (``GET .../retro.md``), the CLI's
``--markdown`` and the Prefect artifact on the launch's last flow run. Pure."""

from datetime import datetime, timedelta

from orchestrator.core.clock import as_utc
from orchestrator.reporting.audit_words import phase_label
from orchestrator.retros.figures import Accuracy, BetaFigures, Bottleneck, PhaseTimes
from orchestrator.retros.retro import Retro, Slip


def duration_words(value: timedelta | None) -> str:
    """``3 d 4 h``, ``5 h 10 min``, ``12 min``; ``-`` when unknown. Whole minutes, rounded down."""
    if value is None:
        return "-"
    minutes = int(value.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min"


def when(value: datetime | None) -> str:
    return "-" if value is None else f"{as_utc(value):%Y-%m-%d %H:%M}"


def day(value: datetime | None) -> str:
    return "-" if value is None else f"{as_utc(value):%Y-%m-%d}"


def cell(text: object) -> str:
    """User text in a table cell: no pipes, no line breaks."""
    return " ".join(str(text).replace("|", "/").split())


def _table(header: list[str], rows: list[list[str]], *, empty: str) -> list[str]:
    if not rows:
        return [empty, ""]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return [*lines, ""]


def retro_markdown(retro: Retro) -> str:
    state = "completed " + when(retro.completed_at) if retro.complete else f"{retro.status.value}: figures so far"
    lines = [
        f"# Retro: {cell(retro.name)} ({retro.slug})",
        "",
        f"Tier {retro.tier}, owner {cell(retro.owner)}; kicked off {when(retro.kicked_off_at)}, {state} "
        f"(total {duration_words(retro.duration)}). Generated {when(retro.generated_at)} UTC; times in UTC.",
        "",
        *_progress(retro),
        *_risks(retro),
        "## Overdue items per team",
        "",
        *_table(
            ["team", "items", "overdue", "overdue blocking"],
            [[t.team, str(t.items), str(t.overdue), str(t.overdue_blocking)] for t in retro.overdue],
            empty="No checklist items.",
        ),
        *_accuracy(retro),
        *_beta(retro.beta),
    ]
    return "\n".join(lines).rstrip() + "\n"


def _progress(retro: Retro) -> list[str]:
    """Time at the gates and in the ramps, the bottlenecks, the slips."""
    return [
        "## Time at each gate and in each ramp",
        "",
        *_table(
            ["region", "phase", "gates opened", "ready", "at the gate", "held by", "ramp", "live"],
            [_phase_row(row) for row in retro.phases],
            empty="No region has reached a gate yet.",
        ),
        "## Bottlenecks: who closed each gate's last blocking items",
        "",
        *_table(
            ["region", "phase", "gate passed", "bottleneck", "last closed (newest first)"],
            [
                [b.region, phase_label(b.phase), when(b.gate_passed_at), b.team, last_closed_words(b)]
                for b in retro.bottlenecks
            ],
            empty="No checklist gate has passed with blocking items.",
        ),
        "## Slips",
        "",
        *_table(
            ["region", "phase", "from", "to", "days", "reason", "by", "when"],
            [_slip_row(slip) for slip in retro.slips],
            empty="No phase date moved.",
        ),
    ]


def _slip_row(slip: Slip) -> list[str]:
    return [
        slip.region, phase_label(slip.phase), day(slip.old_at), day(slip.new_at), f"{slip.days:+d}", slip.reason,
        slip.by, when(slip.changed_at),
    ]  # fmt: skip


def last_closed_words(bottleneck: Bottleneck) -> str:
    return "; ".join(
        f"{closed.title} ({closed.team}, {closed.status.value} {when(closed.closed_at)})" for closed in bottleneck.last
    )


def _phase_row(row: PhaseTimes) -> list[str]:
    held = row.held_by.value.replace("_", " ") if row.held_by is not None and row.ready_at is not None else "-"
    return [
        row.region,
        phase_label(row.phase),
        when(row.gates_opened_at),
        when(row.ready_at),
        duration_words(row.at_gate),
        held,
        duration_words(row.in_ramp),
        when(row.live_at),
    ]


def _risks(retro: Retro) -> list[str]:
    return [
        "## Waivers",
        "",
        *_table(
            ["region", "phase", "item", "team", "approver", "reason", "granted", "state"],
            [
                [
                    w.region,
                    phase_label(w.phase),
                    w.item,
                    w.team,
                    w.approver,
                    w.reason,
                    when(w.granted_at),
                    f"revoked {when(w.revoked_at)}"
                    if w.revoked_at
                    else (f"until {day(w.expires_at)}" if w.expires_at else "active"),
                ]
                for w in retro.waivers
            ],
            empty="No waivers.",
        ),
        "## Conditional Gos",
        "",
        *_table(
            ["region", "phase", "voter", "conditions", "risk accepted by", "cast", "state"],
            [
                [
                    c.region,
                    phase_label(c.phase),
                    c.voter,
                    c.conditions,
                    c.risk_accepted_by or "-",
                    when(c.cast_at),
                    "void" if c.voided else "counted",
                ]
                for c in retro.conditional_gos
            ],
            empty="No conditional Gos.",
        ),
    ]


def _accuracy(retro: Retro) -> list[str]:
    overall = (
        f"Mean error over every forecast: {retro.accuracy_mean_abs_days:.1f} days."
        if retro.accuracy_mean_abs_days is not None
        else "No recorded forecast could be checked yet."
    )
    return [
        "## Forecast accuracy",
        "",
        overall,
        "",
        *_table(
            [
                "region",
                "phase",
                "checklist passed",
                "forecasts",
                "first (made: projected, off)",
                "last (made: projected, off)",
                "mean error (days)",
                "without projection",
            ],
            [_accuracy_row(row) for row in retro.accuracy],
            empty="No forecast was recorded for a gate that has passed.",
        ),
    ]


def _accuracy_row(row: Accuracy) -> list[str]:
    def forecast(entry: tuple[datetime, datetime, int] | None) -> str:
        if entry is None:
            return "-"
        made, projected, off = entry
        return f"{day(made)}: {day(projected)}, {off:+d} d"

    mean = f"{row.mean_abs_days:.1f}" if row.mean_abs_days is not None else "-"
    return [
        row.region,
        phase_label(row.phase),
        when(row.actual_at),
        str(len(row.errors) + row.without_projection),
        forecast(row.first),
        forecast(row.last),
        mean,
        str(row.without_projection),
    ]


def _beta(rows: tuple[BetaFigures, ...]) -> list[str]:
    return [
        "## Beta feedback",
        "",
        *_table(
            ["region", "reports", "issues", "severity 1", "severity 1 open", "median time to fix sev 1", "longest"],
            [
                [
                    b.region,
                    str(b.reports),
                    str(b.issues),
                    str(b.severity_1),
                    str(b.severity_1_open),
                    duration_words(b.median_fix),
                    duration_words(b.longest_fix),
                ]
                for b in rows
            ],
            empty="No beta feedback.",
        ),
    ]
