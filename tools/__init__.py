"""memlane tools."""
