"""memlane's memory graph: domain model, temporal rules, stores and retrieval.

This package imports no LLM code and no LangGraph code.
"""
