"""The simulated long-horizon user: its life, its dialogue, probes, and the runner that scores
memlane on it."""
