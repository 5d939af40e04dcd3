"""Storage: the one writer thread, its connection, handlers, task states, the run record."""
