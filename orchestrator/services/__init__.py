"""Every state change of the domain, one keyword-only function each, one transaction each."""
