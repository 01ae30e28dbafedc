"""The public catalog: territory, services and their pages."""
