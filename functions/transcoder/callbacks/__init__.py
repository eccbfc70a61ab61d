"""Task callbacks and events (api.md "Callbacks (ext)").

A task's terminal transition is seen in one place, the task table's stream (`transitions`): it becomes
an EventBridge event and, for a task with a callback URL, a message on the callbacks queue (`notify`),
which the callback function delivers as a signed POST (`signature`, `delivery`) with backoff (`backoff`).
"""
