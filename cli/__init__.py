"""The `launchdeck` command: the composition root that wires every package together."""
