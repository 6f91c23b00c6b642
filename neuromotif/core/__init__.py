"""Plumbing every layer shares: errors and exit codes, atomic writes, progress output, version
lookup, figure saving. The bottom floor: it imports nothing else of neuromotif, and search/,
deploy/ and the app build on it."""
