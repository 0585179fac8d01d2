"""A real Neo4j server for the test suite (Maven-resolved, embedded, Bolt on loopback)."""
