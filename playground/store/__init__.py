"""Persistence: SQLite rows for the stores, written behind the engine."""
