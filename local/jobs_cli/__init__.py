"""`jobs`: the command line client of the job system's HTTP API."""
