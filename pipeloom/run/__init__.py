"""One run's driver: check the arguments, feed the tasks, drive the runner, close the run."""
