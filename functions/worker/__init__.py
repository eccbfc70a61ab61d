"""The Fargate worker: runs one pipeline step outside Lambda, in a container, with the same domain code.

`python -m worker --step transcode` (see worker.main). The step is the very function the Lambda handler calls
(transcoder.pipeline.transcode), given a long time budget instead of Lambda's 15 minutes.
"""
