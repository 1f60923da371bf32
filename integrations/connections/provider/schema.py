"""OpenAPI: the OAuth 2.0 authorization-code flow and each operation's required scopes (drf-spectacular)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension


class OrganizationOAuth2Scheme(OpenApiAuthenticationExtension):
    target_class = "integrations.connections.provider.drf.OrganizationOAuth2Authentication"
    name = "oauth2"

    def get_security_requirement(self, auto_schema: Any) -> Any:
        from integrations.connections.provider.drf import required_scopes_for

        scopes = required_scopes_for(auto_schema.view, auto_schema.method)
        return {self.name: scopes} if scopes is not None else None  # None: closed to third-party apps

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "oauth2",
            "flows": {
                "authorizationCode": {
                    "authorizationUrl": "/oauth/authorize/",
                    "tokenUrl": "/oauth/token/",
                    "refreshUrl": "/oauth/token/",
                    "scopes": dict(settings.OAUTH2_PROVIDER["SCOPES"]),
                }
            },
        }
