"""What a job is allowed to be: the limits, each written once. Tests tie them to template.yaml and
the state machine, where AWS needs the same numbers again."""
