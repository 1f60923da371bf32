"""The order and reservation status graphs, as data. Services move along them; anything else is refused.

Orders: draft -> awaiting_payment -> paid -> fulfilled; draft and awaiting_payment may be cancelled; paid and
fulfilled may be refunded. Cancelled and refunded are final.

Reservations: held -> confirmed -> completed | no_show; held and confirmed may be cancelled (an expired hold is
cancelled by the sweep). Completed, no_show and cancelled are final.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext

ORDER_TRANSITIONS: dict[str, frozenset[str]] = {
    "draft": frozenset({"awaiting_payment", "cancelled"}),
    "awaiting_payment": frozenset({"paid", "cancelled"}),
    "paid": frozenset({"fulfilled", "refunded"}),
    "fulfilled": frozenset({"refunded"}),
    "cancelled": frozenset(),
    "refunded": frozenset(),
}

RESERVATION_TRANSITIONS: dict[str, frozenset[str]] = {
    "held": frozenset({"confirmed", "cancelled"}),
    "confirmed": frozenset({"completed", "no_show", "cancelled"}),
    "completed": frozenset(),
    "no_show": frozenset(),
    "cancelled": frozenset(),
}

_LABELS = {
    "draft": "draft",
    "awaiting_payment": "awaiting payment",
    "paid": "paid",
    "fulfilled": "fulfilled",
    "cancelled": "cancelled",
    "refunded": "refunded",
    "held": "held",
    "confirmed": "confirmed",
    "completed": "completed",
    "no_show": "no-show",
}


class TransitionError(ValidationError):
    """A move the status graph does not allow. The message says what is allowed instead."""


def check_transition(graph: dict[str, frozenset[str]], noun: str, current: str, target: str) -> None:
    if target not in graph:
        raise TransitionError(
            gettext("%(target)s is not one of the %(noun)s statuses (%(value)s).")
            % {"target": repr(target), "noun": noun, "value": ", ".join(graph)}
        )
    allowed = graph.get(current, frozenset())
    if target in allowed:
        return
    if current == target:
        raise TransitionError(
            gettext("This %(noun)s is already %(value)s.") % {"noun": noun, "value": _LABELS[current]}
        )
    if allowed:
        options = ", ".join(_LABELS[s] for s in sorted(allowed))
        raise TransitionError(
            gettext("A %(value)s %(noun)s cannot become %(value2)s; it can become: %(options)s.")
            % {"value": _LABELS[current], "noun": noun, "value2": _LABELS[target], "options": options}
        )
    raise TransitionError(
        gettext("A %(value)s %(noun)s is final and cannot become %(value2)s.")
        % {"value": _LABELS[current], "noun": noun, "value2": _LABELS[target]}
    )


def check_order_transition(current: str, target: str) -> None:
    check_transition(ORDER_TRANSITIONS, "order", current, target)


def check_reservation_transition(current: str, target: str) -> None:
    check_transition(RESERVATION_TRANSITIONS, "reservation", current, target)
