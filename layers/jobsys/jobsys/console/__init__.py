"""`jobs-console`: the project's `bin/console`. Runs one registered command in the foreground."""
