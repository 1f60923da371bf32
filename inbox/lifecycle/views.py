"""Settings page for the data lifecycle: retention with a dry run, and erasing a contact on request.

Owners and admins (``manage_members``) only; the services do the work.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from inbox import permissions
from inbox.access.services.audit import client_ip
from inbox.lifecycle import services
from inbox.lifecycle.forms import EraseConfirmForm, EraseLookupForm, RetentionForm
from inbox.lifecycle.models import ContactErasure, RetentionRun
from inbox.models import Contact


@login_required
def data_settings(request: HttpRequest) -> HttpResponse:
    membership = permissions.check_permission(request.user, None, "manage_members")
    organization = membership.organization
    policy = services.policy_for(organization)
    form = RetentionForm(
        initial={
            "resolved_conversations_days": policy.resolved_conversations_days,
            "conversation_action": policy.conversation_action,
            "webhook_bodies_days": policy.webhook_bodies_days,
            "signal_outbox_days": policy.signal_outbox_days,
        }
    )
    lookup = EraseLookupForm()
    status = 200
    if request.method == "POST" and "contact_id" in request.POST:
        lookup = EraseLookupForm(request.POST)
        if lookup.is_valid():
            return redirect("lifecycle:erase", contact_id=lookup.cleaned_data["contact_id"])
        status = 400
    elif request.method == "POST":
        form = RetentionForm(request.POST)
        if form.is_valid():
            services.policy_update(
                organization=organization, actor=request.user, ip=client_ip(request), **form.cleaned_data
            )
            messages.success(request, _("Retention saved."))
            return redirect("lifecycle:settings")
        status = 400
    context = {
        "form": form,
        "lookup": lookup,
        "preview": services.retention_preview(organization),
        "runs": RetentionRun.objects.filter(organization=organization).order_by("-started_at")[:10],
        "erasures": ContactErasure.objects.filter(organization=organization).order_by("-erased_at")[:10],
    }
    return render(request, "lifecycle/settings.html", context, status=status)


@login_required
def erase_contact(request: HttpRequest, contact_id: int) -> HttpResponse:
    membership = permissions.check_permission(request.user, None, "manage_members")
    contact = get_object_or_404(Contact, pk=contact_id, organization_id=membership.organization_id)
    erased = services.contact_is_erased(contact)
    form = EraseConfirmForm()
    status = 200
    if request.method == "POST" and not erased:
        form = EraseConfirmForm(request.POST)
        if form.is_valid():
            try:
                services.contact_erase(
                    contact=contact,
                    actor=request.user,
                    confirmation=form.cleaned_data["confirmation"],
                    ip=client_ip(request),
                )
            except services.ErasureError as exc:
                form.add_error("confirmation", str(exc))
            else:
                messages.success(request, _("Contact #%(id)s was erased.") % {"id": contact.pk})
                return redirect("lifecycle:settings")
        status = 400
    context = {
        "contact": contact,
        "erased": erased,
        "form": form,
        "preview": services.erasure_preview(contact),
        "word": services.CONFIRMATION_WORD,
    }
    return render(request, "lifecycle/erase.html", context, status=status)
