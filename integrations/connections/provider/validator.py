"""django-oauth-toolkit's validator, taught to carry the organization picked on the consent page.

The consent view passes ``organization_id`` with the authorization credentials; it lands on oauthlib's request.
Here it becomes an :class:`AppAuthorization` linked to the grant; the token exchange reads it back from the
grant (``validate_code``) and a refresh from the refresh token (``validate_refresh_token``), and every token
issued is linked to the same authorization, so the API knows which organization a token may act on and a
revocation on the Authorized apps page reaches every token at once.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.utils import timezone
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauthlib.oauth2.rfc6749 import errors

# RFC 9700 (OAuth 2.0 Security BCP): third-party apps get the authorization-code grant with PKCE S256, and
# refresh tokens; whatever an Application row says, the implicit, password and other grants are refused.
ALLOWED_GRANT_TYPES = frozenset({"authorization_code", "refresh_token"})
ALLOWED_RESPONSE_TYPES = frozenset({"code"})
PKCE_METHOD = "S256"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1"})


class OrganizationOAuth2Validator(OAuth2Validator):
    def validate_grant_type(
        self, client_id: str, grant_type: str, client: Any, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        if grant_type not in ALLOWED_GRANT_TYPES:
            return False
        return super().validate_grant_type(client_id, grant_type, client, request, *args, **kwargs)

    def validate_response_type(
        self, client_id: str, response_type: str, client: Any, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        if response_type not in ALLOWED_RESPONSE_TYPES:
            return False
        return super().validate_response_type(client_id, response_type, client, request, *args, **kwargs)

    def is_pkce_required(self, client_id: str, request: Any) -> bool:
        # oauthlib takes a challenge without a method as "plain": refuse it here, on the authorization request,
        # before the consent page is shown (django-oauth-toolkit's own gate only fires when the code is made).
        if getattr(request, "code_challenge", None) is not None and request.code_challenge_method != PKCE_METHOD:
            raise errors.InvalidRequestError(description="code_challenge_method must be S256.", request=request)
        return True

    def validate_redirect_uri(self, client_id: str, redirect_uri: str, request: Any, *args: Any, **kwargs: Any) -> bool:
        """Simple string comparison with a registered URI (RFC 9700 section 2.1); only a loopback callback may
        change its port (RFC 8252 section 7.3)."""
        if not super().validate_redirect_uri(client_id, redirect_uri, request, *args, **kwargs):
            return False
        registered = request.client.redirect_uris.split()
        return redirect_uri in registered or any(_same_but_loopback_port(redirect_uri, uri) for uri in registered)

    def _create_authorization_code(self, request: Any, code: Any, expires: Any = None) -> Any:
        from integrations.connections.models import AppAuthorization, TokenAuthorization

        grant = super()._create_authorization_code(request, code, expires)
        organization_id = getattr(request, "organization_id", None)
        if organization_id is not None:
            authorization, _ = AppAuthorization.objects.get_or_create(
                application=request.client, user=request.user, organization_id=organization_id
            )
            scopes = set(authorization.scope.split()) if authorization.revoked_at is None else set()
            authorization.scope = " ".join(sorted(scopes | set(request.scopes or [])))
            authorization.revoked_at = None
            authorization.revoked_by = None
            authorization.save(update_fields=["scope", "revoked_at", "revoked_by"])
            TokenAuthorization.objects.create(authorization=authorization, grant=grant)
            from integrations.connections.services.audit import audit_record

            audit_record(organization_id=organization_id, actor=request.user, action="app_authorized", provider="app",
                         subject=request.client.name, application_id=request.client.pk, scope=authorization.scope)
        return grant

    def validate_code(self, client_id: str, code: str, client: Any, request: Any, *args: Any, **kwargs: Any) -> bool:
        from integrations.connections.models import TokenAuthorization

        if not super().validate_code(client_id, code, client, request, *args, **kwargs):
            return False
        link = (
            TokenAuthorization.objects.select_related("authorization")
            .filter(grant__code=code, grant__application=client)
            .first()
        )
        if link is None or link.authorization.revoked_at is not None:
            return False
        request.app_authorization_id = link.authorization_id
        return True

    def validate_refresh_token(self, refresh_token: str, client: Any, request: Any, *args: Any, **kwargs: Any) -> bool:
        from integrations.connections.models import TokenAuthorization

        if not super().validate_refresh_token(refresh_token, client, request, *args, **kwargs):
            return False
        instance = getattr(request, "refresh_token_instance", None)
        link = (
            TokenAuthorization.objects.select_related("authorization").filter(refresh_token=instance).first()
            if instance is not None
            else None
        )
        if link is None or link.authorization.revoked_at is not None:
            return False
        request.app_authorization_id = link.authorization_id
        return True

    def _create_access_token(self, expires: Any, request: Any, token: Any, source_refresh_token: Any = None) -> Any:
        access_token = super()._create_access_token(expires, request, token, source_refresh_token)
        request._switchboard_access_token = access_token
        return access_token

    def _create_refresh_token(
        self, request: Any, refresh_token_code: str, access_token: Any, previous_refresh_token: Any
    ) -> Any:
        refresh_token = super()._create_refresh_token(request, refresh_token_code, access_token, previous_refresh_token)
        request._switchboard_refresh_token = refresh_token
        return refresh_token

    def _save_bearer_token(self, token: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        from integrations.connections.models import AppAuthorization, TokenAuthorization

        result = super()._save_bearer_token(token, request, *args, **kwargs)
        authorization_id = getattr(request, "app_authorization_id", None)
        access_token = getattr(request, "_switchboard_access_token", None)
        if authorization_id is not None and access_token is not None:
            TokenAuthorization.objects.create(
                authorization_id=authorization_id,
                access_token=access_token,
                refresh_token=getattr(request, "_switchboard_refresh_token", None),
            )
            AppAuthorization.objects.filter(pk=authorization_id).update(last_used_at=timezone.now())
        return result


def _same_but_loopback_port(requested: str, registered: str) -> bool:
    want, got = urlsplit(registered), urlsplit(requested)
    if want.scheme != "http" or want.hostname not in LOOPBACK_HOSTS or got.hostname != want.hostname:
        return False
    return got._replace(netloc="") == want._replace(netloc="")
