"""The lifecycle simulation (tests/unit/lifecycle_simulation.py) in `make test`: a fixed seed and a
few hundred steps. `make simulate SEED=n STEPS=n` runs it longer, from another seed."""

import os

from tests.unit.lifecycle_simulation import LifecycleSimulation, transitions_of_the_table, walk

# A walk's jobs pile up, and each step reads them all: a long simulation is many walks of this.
WALK = 150


def test_the_lifecycle_keeps_its_invariants_whatever_happens_and_when(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    # A seed whose 300 steps take every row of the table (33 did until the runner ended its runs itself).
    seed = int(os.environ.get("SIMULATION_SEED", "34"))
    steps = int(os.environ.get("SIMULATION_STEPS", "300"))
    LifecycleSimulation.seen_transitions.clear()
    walk(seed, steps=min(steps, WALK), runs=max(1, steps // WALK))
    untaken = transitions_of_the_table() - LifecycleSimulation.seen_transitions
    assert not untaken, f"rows of the lifecycle table that the walk never took (walk longer): {sorted(untaken)}"
