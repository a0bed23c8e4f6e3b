"""Slack delivery, Block Kit builders and message templates. The only package that imports slack_sdk."""
