"""Small shared helpers: atomic file writes, array maths."""
