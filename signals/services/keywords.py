"""Curated keyword lists: editing, CSV import/export, and the cached matcher of an organization."""

from __future__ import annotations

import csv
import io
import threading
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F

from inbox.models import Organization
from signals.extract import KeywordMatcher, generic_keyword_warning, matcher_for
from signals.models import Keyword, KeywordList
from signals.text import normalize

MAX_IMPORT_ROWS = 20_000


@dataclass(frozen=True)
class KeywordAdded:
    keyword: Keyword | None
    warning: str | None
    created: bool


def _bump(keyword_list_id: int) -> None:
    KeywordList.objects.filter(pk=keyword_list_id).update(version=F("version") + 1)


def keyword_list_create(*, organization: Organization, name: str, tiktok_provided: bool = False) -> KeywordList:
    """A new (empty) list. Raises ``ValidationError`` for an empty or duplicate name."""
    name = name.strip()
    if not name:
        raise ValidationError("A keyword list needs a name.")
    try:
        with transaction.atomic():
            return KeywordList.objects.create(organization=organization, name=name, tiktok_provided=tiktok_provided)
    except IntegrityError:
        raise ValidationError(f"A list named “{name}” already exists.") from None


def keyword_list_set_tiktok_provided(*, keyword_list: KeywordList, tiktok_provided: bool) -> None:
    KeywordList.objects.filter(pk=keyword_list.pk).update(tiktok_provided=tiktok_provided)


def keyword_add(*, keyword_list: KeywordList, phrase: str, flag: str = "") -> KeywordAdded:
    """Add a phrase raising ``flag`` (default: the phrase itself, normalized). Generic words are accepted with
    a warning (see :func:`signals.extract.generic_keyword_warning`); a phrase already in the list is kept as is.
    Bumps the list's version, so every process rebuilds its matcher on the next message."""
    phrase = " ".join(phrase.split())
    if not phrase or not normalize(phrase):
        raise ValidationError("The keyword is empty.")
    if len(phrase) > 200:
        raise ValidationError("A keyword is at most 200 characters long.")
    flag = (flag.strip() or normalize(phrase))[:64]
    warning = generic_keyword_warning(phrase)
    with transaction.atomic():
        keyword, created = Keyword.objects.get_or_create(
            keyword_list=keyword_list, phrase=phrase, defaults={"flag": flag}
        )
        if created:
            _bump(keyword_list.pk)
    return KeywordAdded(keyword, warning, created)


def keyword_remove(*, keyword_list: KeywordList, keyword_id: int) -> bool:
    with transaction.atomic():
        deleted, _ = Keyword.objects.filter(keyword_list=keyword_list, pk=keyword_id).delete()
        if deleted:
            _bump(keyword_list.pk)
    return bool(deleted)


def keywords_import_csv(*, keyword_list: KeywordList, data: str) -> tuple[int, list[str]]:
    """Import ``phrase[,flag]`` rows (a header row ``phrase,flag`` is skipped). Returns the number added and
    the warnings (generic words) to show. One transaction, one version bump."""
    added = 0
    warnings: list[str] = []
    rows = list(csv.reader(io.StringIO(data)))
    if len(rows) > MAX_IMPORT_ROWS:
        raise ValidationError(f"At most {MAX_IMPORT_ROWS} rows per import.")
    with transaction.atomic():
        existing = set(keyword_list.keywords.values_list("phrase", flat=True))
        new: list[Keyword] = []
        for index, row in enumerate(rows):
            if not row or not row[0].strip():
                continue
            phrase = " ".join(row[0].split())[:200]
            if index == 0 and phrase.lower() == "phrase":
                continue
            if phrase in existing or not normalize(phrase):
                continue
            flag = ((row[1].strip() if len(row) > 1 else "") or normalize(phrase))[:64]
            existing.add(phrase)
            new.append(Keyword(keyword_list=keyword_list, phrase=phrase, flag=flag))
            warning = generic_keyword_warning(phrase)
            if warning:
                warnings.append(warning)
        Keyword.objects.bulk_create(new, ignore_conflicts=True)
        added = len(new)
        if added:
            _bump(keyword_list.pk)
    return added, warnings


def keywords_export_csv(*, keyword_list: KeywordList) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["phrase", "flag"])
    for phrase, flag in keyword_list.keywords.order_by("phrase").values_list("phrase", "flag"):
        writer.writerow([phrase, flag])
    return out.getvalue()


# --- the cached matcher -----------------------------------------------------------------------------------------

_cache_lock = threading.Lock()
_matchers: dict[int, tuple[tuple[tuple[int, int], ...], KeywordMatcher]] = {}


def organization_matcher(organization_id: int) -> KeywordMatcher:
    """The organization's matcher over all its lists, rebuilt only when a list's version stamp changed.

    Costs one small query per call (the stamp: list ids and versions); the keywords are read and compiled
    only after a change, once per process.
    """
    stamp = tuple(
        KeywordList.objects.filter(organization_id=organization_id).order_by("id").values_list("id", "version")
    )
    cached = _matchers.get(organization_id)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    pairs = tuple(
        sorted(Keyword.objects.filter(keyword_list__organization_id=organization_id).values_list("phrase", "flag"))
    )
    matcher = matcher_for(pairs)
    with _cache_lock:
        _matchers[organization_id] = (stamp, matcher)
    return matcher


def curated_phrases(organization_id: int) -> list[str]:
    return list(Keyword.objects.filter(keyword_list__organization_id=organization_id).values_list("phrase", flat=True))
