"""The knowledge engineer's tools: which knowledge base is read, the complete check, sanity
checks, documentation, semantic diff, templates and releases."""
