"""jobs.yaml's JSON schema, from `JobsFile`: `make schema` writes config/jobs.schema.json, which
editors use through the `# yaml-language-server: $schema=` line at the top of jobs.yaml."""

from __future__ import annotations

import json

from jobsys.spec.jobs_file import JobsFile


def jobs_file_schema() -> str:
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", **JobsFile.model_json_schema()}
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    print(jobs_file_schema(), end="")
