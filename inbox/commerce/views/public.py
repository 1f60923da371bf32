"""Pages and endpoints without a Switchboard login: the fake provider's checkout, provider callbacks, and the
customer's .ics link. Each is reachable only with an unguessable reference or a valid signature."""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from inbox.commerce.ics import reservation_ics
from inbox.commerce.models import Payment, Reservation
from inbox.commerce.money import format_money
from inbox.commerce.payment_providers import get_provider
from inbox.commerce.payment_providers.base import InvalidSignature, MalformedCallback
from inbox.commerce.payment_providers.fake import build_callback
from inbox.commerce.services import payments

logger = logging.getLogger(__name__)


@csrf_exempt  # a provider's server calls this; it is authenticated by the HMAC signature on the raw body
@require_POST
def payment_callback(request: HttpRequest, provider: str) -> JsonResponse:
    """POST /commerce/payments/<provider>/callback: 401 on a bad signature, 400 on a malformed body, 200 with
    the outcome otherwise (including duplicates, so the provider stops retrying)."""
    try:
        result = payments.payment_callback_receive(provider_name=provider, body=request.body, headers=request.headers)
    except LookupError as exc:
        raise Http404(str(exc)) from exc
    except InvalidSignature as exc:
        logger.warning("payment callback with an invalid signature", extra={"provider": provider})
        return JsonResponse({"error": f"invalid signature: {exc}"}, status=401)
    except (MalformedCallback, ValidationError) as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    return JsonResponse({"outcome": result.outcome, "detail": result.detail})


def _fake_payment(reference: str) -> Payment:
    if get_provider().name != "fake":
        raise Http404("The fake payment provider is not enabled")
    payment = Payment.objects.select_related("order__organization").filter(provider="fake", reference=reference).first()
    if payment is None:
        raise Http404("No such payment")
    return payment


@require_http_methods(["GET", "POST"])
def fake_checkout(request: HttpRequest, reference: str) -> HttpResponse:
    """The fake provider's checkout page. POST ``outcome=succeeded|failed`` sends the signed callback through the
    same code path as a real provider's call, then shows the result to the customer."""
    payment = _fake_payment(reference)
    result = None
    if request.method == "POST":
        outcome = request.POST.get("outcome")
        if outcome not in ("succeeded", "failed"):
            return HttpResponse("Choose Pay or Decline.", status=400, content_type="text/plain")
        body, headers = build_callback(
            reference=payment.reference, outcome=outcome, amount=payment.amount, currency=payment.currency,
            reason="" if outcome == "succeeded" else "declined by the customer",
        )
        result = payments.payment_callback_receive(provider_name="fake", body=body, headers=headers)
        payment.refresh_from_db()
    return render(
        request,
        "commerce/fake_checkout.html",
        {
            "payment": payment,
            "order": payment.order,
            "amount": format_money(payment.amount, payment.currency),
            "result": result,
        },
    )


def reservation_ics_public(request: HttpRequest, token: str) -> HttpResponse:
    reservation = Reservation.objects.select_related("resource__organization").filter(public_token=token).first()
    if reservation is None:
        raise Http404("No such booking")
    return ics_response(reservation)


def ics_response(reservation: Reservation) -> HttpResponse:
    response = HttpResponse(reservation_ics(reservation), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="booking-{reservation.pk}.ics"'
    return response
