"""Step Functions' `ecs:runTask.sync` integration, as AWS runs it; moto's interpreter cannot.

Replaces: the empty `_normalise_parameters` and `_normalise_response` of moto's copy of the
Step Functions interpreter (`StateTaskService`), as `StateTaskServiceEcs` uses them.
- ASL gives service parameters in PascalCase (`Cluster`, `TaskDefinition`, `Overrides`), and AWS
  maps them onto the service's own API shape (`cluster`, `taskDefinition`, ...). moto passes them
  through as they are, so `RunTask` fails with "States.Runtime: 'Cluster'".
- AWS hands the task's description back in PascalCase; the ECS integration reads it that way.
- AWS fails a `.sync` task whose container stopped with a non-zero exit code, or never started,
  with `States.TaskFailed`; moto's waiter accepts any stopped task.
- When a `.sync` state times out, or its execution is stopped, AWS stops the ECS task (`StopTask`,
  as the state machine's role); moto's waiter just stops looking, and the task runs on.

The mapping goes by the operation's shapes in botocore's service model, as AWS's does.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import botocore.session
from botocore import xform_name
from botocore.model import OperationModel
from moto.stepfunctions.parser.api import HistoryEventType, TaskFailedEventDetails
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEvent,
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import StatesErrorNameType
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_ecs
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_ecs import (
    StateTaskServiceEcs,
)
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
from moto.stepfunctions.parser.asl.utils.encoding import to_json_str

from jobs_local.patching import Patch


@functools.cache
def _shapes(service: str, action: str) -> OperationModel:
    model = botocore.session.get_session().get_service_model(service)
    by_method = {xform_name(name): name for name in model.operation_names}
    return model.operation_model(by_method[action])


def _operation(task: StateTaskServiceEcs, service: str | None, action: str | None) -> OperationModel:
    return _shapes(task._get_boto_service_name(service), task._get_boto_service_action(action))


def _normalise_parameters(
    self: StateTaskServiceEcs,
    parameters: dict,
    boto_service_name: str | None = None,
    service_action_name: str | None = None,
) -> None:
    operation = _operation(self, boto_service_name, service_action_name)
    if operation.input_shape is not None:
        self._to_boto_request(parameters, operation.input_shape)


def _normalise_response(
    self: StateTaskServiceEcs,
    response: Any,
    boto_service_name: str | None = None,
    service_action_name: str | None = None,
) -> None:
    operation = _operation(self, boto_service_name, service_action_name)
    if operation.output_shape is not None:
        self._from_boto_response(response, operation.output_shape)


def _task_failed(task: dict[str, Any]) -> bool:
    containers = task.get("Containers") or []
    return not containers or any(container.get("ExitCode") != 0 for container in containers)


_wait_for_any_stop = StateTaskServiceEcs._build_sync_resolver


def _build_sync_resolver(
    self: StateTaskServiceEcs,
    env: Any,
    resource_runtime_part: Any,
    normalised_parameters: dict,
    state_credentials: Any,
) -> Callable[[], Any]:
    submitted = env.stack[-1]["Tasks"][0]  # what RunTask answered; the waiter takes it off the stack
    stopped = _wait_for_any_stop(self, env, resource_runtime_part, normalised_parameters, state_credentials)

    def stopped_well() -> dict | None:
        task = stopped()
        if task is not None and _task_failed(task):
            error = StatesErrorNameType.StatesTaskFailed
            raise FailureEventException(
                FailureEvent(
                    env=env,
                    error_name=StatesErrorName(typ=error),
                    event_type=HistoryEventType.TaskFailed,
                    event_details=EventDetails(
                        taskFailedEventDetails=TaskFailedEventDetails(
                            resource=self._get_sfn_resource(),
                            resourceType=self._get_sfn_resource_type(),
                            error=error.to_name(),
                            cause=to_json_str(task),
                        )
                    ),
                )
            )
        return task

    def stop_task() -> None:
        # Looked up at each call: asl_clients replaces the module's client factory.
        ecs = state_task_service_ecs.boto_client_for(
            service="ecs", region=resource_runtime_part.region, state_credentials=state_credentials
        )
        ecs.stop_task(
            cluster=submitted["ClusterArn"],
            task=submitted["TaskArn"],
            reason="Step Functions: the state timed out or its execution was stopped",
        )

    stopped_well.stop_task = stop_task  # type: ignore[attr-defined]
    return stopped_well


_wait_for_an_outcome = StateTaskServiceEcs._eval_sync


def _eval_sync(self: StateTaskServiceEcs, env: Any, sync_resolver: Any, *args: Any, **kwargs: Any) -> Any:
    outcome = _wait_for_an_outcome(self, env, sync_resolver, *args, **kwargs)
    # The waiter ends without the stopped task only when the state ended first: timed out, or
    # its execution stopped. The task must not outlive it.
    if outcome is None and hasattr(sync_resolver, "stop_task"):
        sync_resolver.stop_task()
    return outcome


PATCH = Patch(
    "moto's StateTaskServiceEcs, which passes ASL's parameters through and accepts any stopped task",
    [
        (StateTaskServiceEcs, "_normalise_parameters", _normalise_parameters),
        (StateTaskServiceEcs, "_normalise_response", _normalise_response),
        (StateTaskServiceEcs, "_build_sync_resolver", _build_sync_resolver),
        (StateTaskServiceEcs, "_eval_sync", _eval_sync),
    ],
)
