"""Readiness forecasts: when each region's next gate's blocking items will be done at the recent
rate (the burndown's projection), recorded so their accuracy can be shown afterwards."""
