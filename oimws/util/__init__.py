"""Small shared helpers: time, identifiers."""
