"""Small shared pieces, each with a name: clock, ids, pagination, tenancy, errors."""
