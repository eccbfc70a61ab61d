"""The service's CloudWatch metrics: their namespace and names, shared by the code that emits them
(transcoder.metrics) and the alarms and dashboard that read them (infra/constructs/monitoring.py).

No imports: the CDK app reads these names without loading Powertools.
"""

from typing import Final

NAMESPACE: Final = "Transcoder"
NAMESPACE_ENV: Final = "POWERTOOLS_METRICS_NAMESPACE"

TASKS_CREATED: Final = "TasksCreated"
TASKS_SUCCEEDED: Final = "TasksSucceeded"
TASKS_FAILED: Final = "TasksFailed"
TASKS_CANCELLED: Final = "TasksCancelled"
TASK_START_DELAY: Final = "TaskStartDelay"
"""Seconds from create_task to the first step taking the task (pending → downloading)."""
TASK_DURATION: Final = "TaskDuration"
"""Seconds from create_task to the task's terminal status."""
ENCODE_SPEED: Final = "EncodeSpeed"
"""Media seconds encoded per wall-clock second (times real time) of one encoding step."""
CALLBACKS_DELIVERED: Final = "CallbacksDelivered"
CALLBACK_FAILURES: Final = "CallbackFailures"
"""Attempts that did not deliver (each retry counts) and callbacks refused outright."""
CALLBACKS_ABANDONED: Final = "CallbacksAbandoned"
"""Callbacks given up on: sent to the callback dead-letter queue."""
STUCK_TASKS: Final = "StuckTasks"
"""Tasks older than the sweep's bound that are not terminal (emitted by the scheduled sweep)."""

# Dimensions, besides `service` (POWERTOOLS_SERVICE_NAME), which every metric carries.
TEMPLATE: Final = "template"
ERR_CODE: Final = "err_code"
STATUS: Final = "status"
STEP: Final = "step"
CUSTOM_TEMPLATE: Final = "custom"
"""The `template` dimension of every account's own templates: their names are the accounts' to choose, and each
distinct value would be a metric of its own."""
