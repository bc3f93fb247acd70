"""Built-in scenarios, shipped as package data (``anjeon scenario list``)."""
