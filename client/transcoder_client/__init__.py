"""Client of the transcoding API: request signing, a Python client and the `transcoder` command."""
