"""Staff password login, signed session cookies with expiry, CSRF tokens and roles."""
