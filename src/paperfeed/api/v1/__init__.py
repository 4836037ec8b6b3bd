"""The operations of the native API, version 1 (mounted under /api/v1 by paperfeed.api.native)."""
