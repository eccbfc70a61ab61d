"""Signature auth (api.md, "Authentication"): access keys, nonces and request verification."""
