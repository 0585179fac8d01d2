"""The application layer: the ``memlane`` CLI, the HTTP server, the MCP server, the inspector
page and the demo. Only this layer changes its process (:mod:`~memlane.app.process`)."""
