"""Operators' commands that work on the service's own stores, not through the API (`transcoder keys`).

They come with the service's code (the root distribution registers them under the `transcoder.commands`
entry points), so the client distribution never imports the service.
"""
