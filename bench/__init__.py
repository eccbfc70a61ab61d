"""`make bench`: the figures of targets.md, measured side by side in one run."""
