"""The wire contract both ends share (api.md): how a request is signed and what each API code means.

The client distribution (`transcoder-client`) ships this package beside `transcoder_client`, and the API's
Lambda asset (infra/bundling.py) copies it in: the signer and the verifier are the same code, so they
cannot disagree. It imports the standard library only.
"""
