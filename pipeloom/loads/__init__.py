"""Loads without a handler: the `Rows` message and how the writer applies it."""
