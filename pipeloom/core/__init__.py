"""What every lane shares: the messages, the queue between workers and writer, the
statuses, what a run returns. It imports no lane."""
