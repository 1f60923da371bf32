"""Settings pages for people and access: members, custom roles, the audit log, and the invitation link.

Thin: the policy (``inbox.permissions``) decides who gets in; services change rows; errors become messages.
Owners and admins (``manage_members``) use these pages; everyone else gets a 403.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext

from inbox import permissions
from inbox.access import selectors
from inbox.access.models import CustomRole, Invitation
from inbox.access.services import invitations, members, roles, two_factor
from inbox.access.services.audit import audit_record, client_ip
from inbox.models import Channel, Membership, Role, Team

View = Callable[..., HttpResponse]


def members_page(view: View) -> View:
    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        membership = permissions.check_permission(request.user, None, "manage_members")
        return view(request, membership, *args, **kwargs)

    return wrapped


def _errors(exc: Exception) -> str:
    return " ".join(getattr(exc, "messages", None) or [str(exc)])


def _int_list(values: list[str]) -> list[int]:
    try:
        return [int(v) for v in values]
    except ValueError as exc:
        raise ValidationError(gettext("Pick channels and teams from the lists.")) from exc


def _custom_role(membership: Membership, raw: str) -> CustomRole | None:
    if not raw:
        return None
    try:
        return CustomRole.objects.get(organization_id=membership.organization_id, pk=int(raw))
    except (CustomRole.DoesNotExist, ValueError) as exc:
        raise ValidationError(gettext("No such custom role.")) from exc


@members_page
def member_list(request: HttpRequest, membership: Membership) -> HttpResponse:
    org_id = membership.organization_id
    if request.method == "POST":
        _member_action(request, membership)
        return redirect("access:members")
    return render(
        request,
        "access/members.html",
        {
            "membership": membership,
            "members": selectors.member_list(organization_id=org_id),
            "invitations": selectors.pending_invitations(organization_id=org_id),
            "custom_roles": list(selectors.custom_roles(organization_id=org_id)),
            "channels": list(Channel.objects.filter(organization_id=org_id).order_by("name")),
            "teams": list(Team.objects.filter(organization_id=org_id).order_by("name")),
            "roles": [(v, label) for v, label in Role.choices if v != Role.OWNER],
            "is_owner": membership.role == Role.OWNER,
            "two_factor_users": two_factor.users_with_two_factor(organization_id=org_id),
        },
    )


def _member_action(request: HttpRequest, membership: Membership) -> None:
    post, ip, actor = request.POST, client_ip(request), request.user
    action = post.get("action", "")
    try:
        if action == "invite":
            invitation, _ = invitations.invitation_create(
                actor=actor,
                organization=membership.organization_id,
                email=post.get("email", ""),
                role=post.get("role", Role.AGENT),
                custom_role=_custom_role(membership, post.get("custom_role", "")),
                ip=ip,
            )
            messages.success(request, gettext("Invitation sent to %(email)s.") % {"email": invitation.email})
            return
        if action == "revoke-invitation":
            invitation = Invitation.objects.filter(
                organization_id=membership.organization_id, pk=post.get("invitation") or 0
            ).first()
            if invitation is None:
                raise ValidationError(gettext("No such invitation."))
            invitations.invitation_revoke(actor=actor, invitation=invitation, ip=ip)
            messages.success(request, gettext("Invitation to %(email)s revoked.") % {"email": invitation.email})
            return
        try:
            target = selectors.member_get(
                organization_id=membership.organization_id, membership_id=int(post.get("member", ""))
            )
        except (Membership.DoesNotExist, ValueError) as exc:
            raise ValidationError(gettext("No such member.")) from exc
        name = target.user.get_username()
        if action == "role":
            members.member_change_role(
                actor=actor,
                membership=target,
                role=post.get("role", ""),
                custom_role=_custom_role(membership, post.get("custom_role", "")),
                ip=ip,
            )
            messages.success(request, gettext("%(name)s's role changed.") % {"name": name})
        elif action == "access":
            members.member_set_access(
                actor=actor,
                membership=target,
                channel_ids=_int_list(post.getlist("channels")),
                team_ids=_int_list(post.getlist("teams")),
                only_assigned=post.get("only_assigned") == "on",
                ip=ip,
            )
            messages.success(request, gettext("%(name)s's channels and teams saved.") % {"name": name})
        elif action == "deactivate":
            members.member_deactivate(actor=actor, membership=target, ip=ip)
            messages.success(request, gettext("%(name)s was deactivated and signed out everywhere.") % {"name": name})
        elif action == "reactivate":
            members.member_reactivate(actor=actor, membership=target, ip=ip)
            messages.success(request, gettext("%(name)s was reactivated.") % {"name": name})
        elif action == "reset-2fa":
            two_factor.two_factor_reset(actor=actor, membership=target, ip=ip)
            messages.success(request, gettext("%(name)s's two-factor authentication was reset.") % {"name": name})
        elif action == "transfer":
            members.ownership_transfer(actor=actor, new_owner=target, ip=ip)
            messages.success(request, gettext("%(name)s now owns the organization; you are an admin.") % {"name": name})
        else:
            raise ValidationError(gettext("Unknown action."))
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _errors(exc))


@members_page
def role_list(request: HttpRequest, membership: Membership) -> HttpResponse:
    org_id = membership.organization_id
    if request.method == "POST":
        post, ip = request.POST, client_ip(request)
        try:
            role = None
            if post.get("role"):
                role = CustomRole.objects.filter(organization_id=org_id, pk=post["role"]).first()
                if role is None:
                    raise ValidationError(gettext("No such role."))
            if post.get("action") == "delete" and role is not None:
                roles.custom_role_delete(actor=request.user, role=role, ip=ip)
                messages.success(
                    request,
                    gettext("Role %(name)s deleted; its members fall back to their base role.") % {"name": role.name},
                )
            elif role is not None:
                roles.custom_role_update(
                    actor=request.user,
                    role=role,
                    name=post.get("name", ""),
                    perms=post.getlist("permissions"),
                    description=post.get("description", ""),
                    ip=ip,
                )
                messages.success(request, gettext("Role %(name)s saved.") % {"name": role.name})
            else:
                created = roles.custom_role_create(
                    actor=request.user,
                    organization=org_id,
                    name=post.get("name", ""),
                    perms=post.getlist("permissions"),
                    description=post.get("description", ""),
                    ip=ip,
                )
                messages.success(request, gettext("Role %(name)s created.") % {"name": created.name})
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, _errors(exc))
        return redirect("access:roles")
    return render(
        request,
        "access/roles.html",
        {
            "roles": list(selectors.custom_roles(organization_id=org_id).prefetch_related("members")),
            "catalogue": list(permissions.PERMISSION_CATALOGUE.items()),
            "defaults": [
                (label, sorted(permissions.ROLE_PERMISSIONS[value] & set(permissions.PERMISSION_CATALOGUE)))
                for value, label in Role.choices
            ],
        },
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


@members_page
def audit_log(request: HttpRequest, membership: Membership) -> HttpResponse:
    org_id = membership.organization_id
    filters = selectors.AuditFilters.from_query(request.GET)
    if request.GET.get("format") == "csv":
        with transaction.atomic():
            audit_record(
                organization_id=org_id,
                actor=request.user,
                action="audit.exported",
                details={"action": filters.action, "actor": filters.actor},
                ip=client_ip(request),
            )
        rows = selectors.audit_list(organization_id=org_id, filters=filters, limit=None).iterator()
        writer = csv.writer(_Echo())
        header = ["time", "actor", "action", "target_type", "target_id", "target", "details", "ip"]
        lines = (
            writer.writerow(
                [
                    r.created_at.isoformat(),
                    r.actor_name,
                    r.action,
                    r.target_type,
                    r.target_id,
                    r.target_label,
                    r.details,
                    r.ip or "",
                ]
            )
            for r in rows
        )
        response = StreamingHttpResponse(
            (line for chunk in ([writer.writerow(header)], lines) for line in chunk), content_type="text/csv"
        )
        response["Content-Disposition"] = 'attachment; filename="audit-log.csv"'
        return response
    return render(
        request,
        "access/audit.html",
        {
            "entries": selectors.audit_list(organization_id=org_id, filters=filters),
            "filters": filters,
            "actions": selectors.audit_actions(organization_id=org_id),
            "query": request.GET.urlencode(),
        },
    )


def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """The link in the email: join as the logged-in user, or create an account and join in one step."""
    invitation = invitations.invitation_get(token=token)
    if invitation is None:
        return render(request, "access/invitation_invalid.html", status=404)
    error = ""
    if request.method == "POST":
        try:
            with transaction.atomic():
                if not request.user.is_authenticated:
                    user = _create_account(request, invitation)
                    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                invitations.invitation_accept(token=token, user=request.user, ip=client_ip(request))
            messages.success(request, gettext("Welcome to %(name)s.") % {"name": invitation.organization.name})
            return redirect("inbox:index")
        except (ValidationError, PermissionDenied) as exc:
            error = _errors(exc)
    return render(request, "access/invitation.html", {"invitation": invitation, "error": error, "token": token})


def _create_account(request: HttpRequest, invitation: Invitation) -> Any:
    username = request.POST.get("username", "").strip()
    password = request.POST.get("password", "")
    user_model = get_user_model()
    if not username or len(username) > 150:
        raise ValidationError(gettext("Choose a username."))
    if user_model.objects.filter(username__iexact=username).exists():
        raise ValidationError(gettext("That username is taken; log in first if it is yours."))
    user = user_model(username=username, email=invitation.email)
    validate_password(password, user)
    user.set_password(password)
    user.save()
    return user


@login_required
def security_settings(request: HttpRequest) -> HttpResponse:
    """Everyone's own login security: turn two-factor authentication on (QR code, confirm) or off, backup codes."""
    user, ip = request.user, client_ip(request)
    backup_codes: list[str] = []
    if request.method == "POST":
        action, code = request.POST.get("action", ""), request.POST.get("code", "")
        try:
            if action == "start":
                two_factor.totp_enrol_start(user=user)
            elif action == "confirm":
                backup_codes = two_factor.totp_enrol_confirm(user=user, code=code, ip=ip)
                messages.success(request, gettext("Two-factor authentication is on."))
            elif action in {"disable", "backup-codes"}:
                # Only someone holding the phone (or a backup code) changes this, not whoever has the session.
                if two_factor.two_factor_verify(user=user, code=code) is None:
                    raise ValueError(gettext("That code is not right."))
                if action == "disable":
                    two_factor.two_factor_disable(user=user, ip=ip)
                    messages.success(request, gettext("Two-factor authentication is off."))
                else:
                    backup_codes = two_factor.backup_codes_regenerate(user=user, ip=ip)
            else:
                raise ValueError(gettext("Unknown action."))
        except ValueError as exc:
            messages.error(request, str(exc))
        if not backup_codes:
            return redirect("access:security")
    pending = None if two_factor.has_two_factor(user) else two_factor.pending_enrolment(user)
    context: dict[str, Any] = {
        "enabled": two_factor.has_two_factor(user),
        "backup_left": two_factor.backup_codes_left(user),
        "backup_codes": backup_codes,
        "pending": pending is not None,
    }
    if pending is not None:
        context["qr_svg"] = two_factor.qr_svg(pending.config_url)
        context["secret"] = two_factor.totp_secret_base32(pending)
    response = render(request, "access/security.html", context)
    response["Cache-Control"] = "no-store"  # the secret and backup codes must not stay in a cache
    return response
