"""Domain code of the transcoding service: shared by every Lambda handler and by local mode."""
