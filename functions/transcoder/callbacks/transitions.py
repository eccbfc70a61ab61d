"""Which stream records are terminal transitions, and the stable id of each."""

from transcoder.status import Status, is_terminal

TERMINAL_VALUES = frozenset(s.value for s in Status if is_terminal(s))


def is_terminal_transition(event_name: str, old_status: str | None, new_status: str | None) -> bool:
    """True when an item newly reached `success`, `fail` or `cancelled`.

    INSERT counts (a rejected drop is written `fail` at once); a MODIFY counts only when the old image was
    not terminal yet, so a later write to an ended task (none is allowed, but a stream must not trust that)
    never announces the same end twice. REMOVE (del_task) is not a transition: the cancel before it was.
    """
    if new_status not in TERMINAL_VALUES:
        return False
    if event_name == "INSERT":
        return True
    return event_name == "MODIFY" and old_status not in TERMINAL_VALUES


def event_id(task_id: str, status: str) -> str:
    """Stable per transition: a task ends once, so receivers deduplicate redeliveries by this id."""
    return f"{task_id}:{status}"
