"""The post-launch retro: what each region spent at its gates and ramps, what held them, what
slipped and why, which risks were accepted, how good the forecasts were and how beta went, all
read back from the ledger and the tables that already hold it."""
