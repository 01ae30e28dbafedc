"""Citizen request forms: schemas per service, forms built from them, drafts, uploads."""
