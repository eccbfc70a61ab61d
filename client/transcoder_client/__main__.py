"""`python -m transcoder_client`: the same as the `transcoder` command."""

import sys

from transcoder_client.cli import main

sys.exit(main())
