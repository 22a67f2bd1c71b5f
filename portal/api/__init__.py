"""HTTP plumbing shared by every feature's routes: sessions, errors, middleware, OpenAPI."""
