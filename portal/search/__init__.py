"""Search: the only package that imports Whoosh. Analyzers per language, the index, queries."""
