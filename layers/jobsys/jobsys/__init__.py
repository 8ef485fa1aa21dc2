"""Domain code of the job system, shared by every Lambda function through a layer."""
