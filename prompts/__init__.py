"""memlane prompts."""
