"""URLs: the federation endpoints of the entity, the OpenID Provider, and (TA role) the authority.

``/.well-known/openid-federation`` answers for the Trust Anchor (TA role only) and
``/oidc/op/.well-known/openid-federation`` for the OpenID Provider of the process: the
package's view picks the entity configuration whose ``sub`` matches the requested URL.
"""

from django.conf import settings
from django.urls import include, path
from spid_cie_oidc.entity.views import entity_configuration

urlpatterns = [
    path(
        "oidc/op/.well-known/openid-federation",
        entity_configuration,
        name="op_entity_configuration",
    ),
    path("", include("spid_cie_oidc.entity.urls")),
    path("", include("spid_cie_oidc.provider.urls")),
]

if settings.IDP_ROLE == "ta-spid":
    urlpatterns.append(path("", include("spid_cie_oidc.authority.urls")))
