"""Helpers shared by the tools, server, MCP and inspector tests."""
