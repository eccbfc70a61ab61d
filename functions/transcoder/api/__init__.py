"""The HTTP contract of api.md: request models, the response envelope and its codes."""
