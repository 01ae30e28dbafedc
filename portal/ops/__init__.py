"""Operations: backup and restore of the whole portal, and the retention of personal data."""
