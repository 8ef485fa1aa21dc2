"""Project tools that are not part of the local stack: the OpenAPI export, the fuzzer, hostile bodies."""
