"""The engine: the six kinds as asyncio tasks on a simulated clock. Never imports the UI."""
