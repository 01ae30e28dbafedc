"""JSON API: health, services (JSON-LD) and, with search, the search endpoint."""
