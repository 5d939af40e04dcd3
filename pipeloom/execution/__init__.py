"""Execution: the message queue, the shared attempt loop, and the runners (threads,
coroutines, a process pool, Dask) that call workers."""
