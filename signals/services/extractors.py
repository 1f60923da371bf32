"""Tracking-ID extractor rules: an ordered, admin-editable list per organization, seeded with the defaults."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils.translation import gettext

from inbox.models import Organization
from signals.extract import DEFAULT_EXTRACTORS, Extractor, validate_pattern
from signals.models import TrackingExtractorRule


def extractor_rules_ensure_defaults(*, organization_id: int) -> None:
    """Seed :data:`signals.extract.DEFAULT_EXTRACTORS` for an organization that has no rules at all."""
    if TrackingExtractorRule.objects.filter(organization_id=organization_id).exists():
        return
    TrackingExtractorRule.objects.bulk_create(
        [
            TrackingExtractorRule(
                organization_id=organization_id,
                name=row["name"],
                kind=row["kind"],
                field=row.get("field", ""),
                pattern=row.get("pattern", ""),
                position=(index + 1) * 10,
            )
            for index, row in enumerate(DEFAULT_EXTRACTORS)
        ],
        ignore_conflicts=True,
    )


def organization_extractors(organization_id: int) -> list[Extractor]:
    """The enabled extractors in order (defaults seeded on first use). A row that no longer validates is
    skipped rather than breaking message storage."""
    extractor_rules_ensure_defaults(organization_id=organization_id)
    out = []
    for row in TrackingExtractorRule.objects.filter(organization_id=organization_id, enabled=True).values(
        "name", "kind", "field", "pattern"
    ):
        try:
            out.append(Extractor.from_dict(row))
        except ValueError:
            continue
    return out


def extractor_rule_add(
    *, organization: Organization, name: str, kind: str, pattern: str = "", field: str = ""
) -> TrackingExtractorRule:
    """Add a rule at the end of the list. Patterns pass :func:`signals.extract.validate_pattern` (including its
    timed trial) first; its sentence becomes the ``ValidationError``."""
    name = name.strip()
    try:
        Extractor(name=name, kind=kind, pattern=pattern, field=field.strip())  # type: ignore[arg-type]
        if kind == TrackingExtractorRule.Kind.PATTERN:
            validate_pattern(pattern)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None
    extractor_rules_ensure_defaults(organization_id=organization.pk)
    last = TrackingExtractorRule.objects.filter(organization=organization).aggregate(m=Max("position"))["m"] or 0
    try:
        with transaction.atomic():
            return TrackingExtractorRule.objects.create(
                organization=organization,
                name=name,
                kind=kind,
                pattern=pattern,
                field=field.strip(),
                position=last + 10,
            )
    except IntegrityError:
        raise ValidationError(gettext("An extractor named “%(name)s” already exists.") % {"name": name}) from None


def extractor_rule_move(*, organization: Organization, rule_id: int, direction: int) -> None:
    """Swap a rule with its neighbour (``direction`` -1: up, +1: down)."""
    with transaction.atomic():
        rules = list(TrackingExtractorRule.objects.select_for_update().filter(organization=organization))
        index = next((i for i, r in enumerate(rules) if r.pk == rule_id), None)
        if index is None:
            return
        other = index + direction
        if not 0 <= other < len(rules):
            return
        for position, rule in enumerate(rules):
            rule.position = (position + 1) * 10
        rules[index].position, rules[other].position = rules[other].position, rules[index].position
        TrackingExtractorRule.objects.bulk_update(rules, ["position"])


def extractor_rule_set_enabled(*, organization: Organization, rule_id: int, enabled: bool) -> None:
    TrackingExtractorRule.objects.filter(organization=organization, pk=rule_id).update(enabled=enabled)


def extractor_rule_delete(*, organization: Organization, rule_id: int) -> None:
    TrackingExtractorRule.objects.filter(organization=organization, pk=rule_id).delete()
