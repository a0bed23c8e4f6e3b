"""What launchdeck posts to Slack, as pure functions from snapshots to Block Kit (no database):
one module per message family, the shared layout and limits, and the Jinja2 wording."""
