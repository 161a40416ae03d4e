"""A discrete-event simulation that drives the real dispatch code on a fake clock (benchmarks, not production)."""
