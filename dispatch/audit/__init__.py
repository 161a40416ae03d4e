"""Who looked at whose personal data, and when."""
