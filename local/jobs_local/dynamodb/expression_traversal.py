"""An update's expression is checked as fast as its size allows: moto rebuilt each check's table
of node types at every node it visited.

Replaces: moto's `DepthFirstTraverser.nodes_to_be_processed` and `DepthFirstTraverser.process`,
which build the traverser's processing map (a dict of bound methods) anew for every node of the
expression's tree; an UpdateItem runs ten traversers over it (moto's `UpdateExpressionValidator`),
so a job's closing write, of a dozen actions, built some thousands of dicts. The map of a
traverser never changes: here each one's is built once, at its first node. The checks, their
order and their answers are moto's.
"""

from __future__ import annotations

from typing import Any

from moto.dynamodb.parsing.ast_nodes import DepthFirstTraverser

from jobs_local.patching import Patch


def _processing(traverser: Any) -> dict[type, Any]:
    cached: dict[type, Any] | None = traverser.__dict__.get("_processing_once")
    if cached is None:
        cached = traverser.__dict__["_processing_once"] = traverser._processing_map()
    return cached


def _nodes_to_be_processed(self: Any) -> tuple[type, ...]:
    kinds: tuple[type, ...] | None = self.__dict__.get("_kinds_once")
    if kinds is None:
        kinds = self.__dict__["_kinds_once"] = tuple(_processing(self))
    return kinds


def _process(self: Any, node: Any) -> Any:
    for kind, processor in _processing(self).items():
        if isinstance(node, kind):
            return processor(node)
    return None


PATCH = Patch(
    "moto DepthFirstTraverser.nodes_to_be_processed and .process: each traverser's processing map built once",
    [
        (DepthFirstTraverser, "nodes_to_be_processed", _nodes_to_be_processed),
        (DepthFirstTraverser, "process", _process),
    ],
)
