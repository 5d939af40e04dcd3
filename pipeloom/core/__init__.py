"""What every lane shares: the queue between workers and writer, its control messages."""
