"""File formats: bytes in, text chunks out. Typed by their first bytes, not their names."""
