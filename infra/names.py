"""Names shared with code that must not import the CDK (local mode reads the synthesized template)."""

STACK_NAME = "Transcoder"
