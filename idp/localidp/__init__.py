"""Local SPID/CIE OpenID Connect Federation test identity provider (Django project)."""
