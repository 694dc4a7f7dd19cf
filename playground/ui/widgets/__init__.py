"""The panes and small widgets of the app."""
