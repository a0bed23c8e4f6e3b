"""RFC 5545 details of the calendar export (api/ical.py): escaped text, lines folded at 75 octets,
CRLF line ends and stable UIDs."""

from datetime import UTC, datetime

from api.ical import PhaseEvent, calendar, escape_text, fold
from tests.support.reporting import NOW


def test_ical_escapes_text_and_folds_long_lines_at_75_octets():
    assert escape_text("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"
    long = "SUMMARY:" + "é" * 60  # two octets each: folding must not split a character
    folded = fold(long)
    lines = folded.split("\r\n")
    assert all(len(line.encode()) <= 75 for line in lines)
    assert all(line.startswith(" ") for line in lines[1:])
    assert "".join(line.removeprefix(" ") if index else line for index, line in enumerate(lines)) == long


def test_ical_calendar_has_crlf_lines_and_stable_uids():
    event = PhaseEvent(
        slug="acme",
        launch_name="Acme, the big one; really",
        region="EU",
        phase="ga",
        at=datetime(2027, 4, 1, 9, tzinfo=UTC),
        baseline_at=datetime(2027, 3, 25, 9, tzinfo=UTC),
        status="not started",
    )
    text = calendar(name="Acme phases", events=[event], now=NOW)
    assert text.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
    assert text.endswith("END:VCALENDAR\r\n")
    assert "UID:acme.EU.ga@launchdeck\r\n" in text
    assert "DTSTART:20270401T090000Z" in text
    assert "Acme\\, the big one\\; really" in text
    assert "moved +7 days" in text.replace("\r\n ", "")
