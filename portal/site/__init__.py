"""Site-wide pages: the language redirect, privacy, accessibility statement, error pages."""
