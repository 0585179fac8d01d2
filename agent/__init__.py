"""memlane's agent: the LangGraph loop, the LLM gateway, settings, CLI and HTTP server."""
