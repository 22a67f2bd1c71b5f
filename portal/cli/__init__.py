"""The operator's command line, `portal`. Thin: every command calls the same services as the API."""
