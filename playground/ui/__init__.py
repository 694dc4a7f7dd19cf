"""The terminal app (Textual): panes over a running engine, live controls, themes."""
