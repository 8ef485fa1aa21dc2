"""Step Functions compiles a state machine's definition once, when it is created; moto's copy of the
interpreter parses it again for every execution.

Replaces: `ExecutionWorker._get_evaluation_entrypoint`, which runs the ANTLR lexer and parser
over the whole ASL at each execution's start: about 35 ms of the stack's one busy process, twice
for a job and its dependent, and more under a burst.

Here each definition is parsed once and its program shared by every execution of it. A program
keeps nothing of an execution: that lives in the execution's `Environment`. The exception is
`EvalComponent.heap_key` (where a Retrier keeps its attempt count in that environment's heap),
drawn on first use, so it is drawn for every component before the program is shared: two
executions drawing it at once could each see another key.
"""

from __future__ import annotations

import threading
from typing import Any

from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

from jobs_local.patching import Patch

_programs: dict[str, EvalComponent] = {}
_lock = threading.Lock()


def _draw_heap_keys(component: Any, seen: set[int]) -> None:
    if id(component) in seen:
        return
    seen.add(id(component))
    if isinstance(component, EvalComponent):
        _ = component.heap_key
    children = vars(component).values() if hasattr(component, "__dict__") else ()
    for child in children:
        if isinstance(child, EvalComponent):
            _draw_heap_keys(child, seen)
        elif isinstance(child, list | tuple | set | frozenset):
            for item in child:
                _draw_heap_keys(item, seen)
        elif isinstance(child, dict):
            for item in child.values():
                _draw_heap_keys(item, seen)


def program_of(definition: str) -> EvalComponent:
    with _lock:
        program = _programs.get(definition)
        if program is None:
            program = AmazonStateLanguageParser.parse(definition)[0]
            _draw_heap_keys(program, set())
            _programs[definition] = program
        return program


def _get_evaluation_entrypoint(self: ExecutionWorker) -> EvalComponent:
    return program_of(self._evaluation_details.state_machine_details.definition)


PATCH = Patch(
    "moto's ExecutionWorker._get_evaluation_entrypoint, which parses the definition for every execution",
    [(ExecutionWorker, "_get_evaluation_entrypoint", _get_evaluation_entrypoint)],
)
