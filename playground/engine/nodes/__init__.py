"""One module per kind of node."""
