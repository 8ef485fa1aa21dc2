"""What a job is allowed to be, once: the limits, the values jobs.yaml and the API share, the
options of a job, jobs.yaml's model and a start's request. Tests tie the limits to template.yaml
and the state machine, where AWS needs the same numbers again."""
