"""memlane evals."""
