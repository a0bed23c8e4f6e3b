"""How messages reach Slack: the composer turns an outbox row into envelopes (reading the
database, then calling the pure builders in ``notifications.messages``), ``slack_delivery``
delivers them once per intent, through a ``Transport`` (the Slack Web API, or the console)."""
