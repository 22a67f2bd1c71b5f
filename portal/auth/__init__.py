"""Login, tokens, roles and the checks every request passes through."""
