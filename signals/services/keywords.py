"""Curated keyword lists: editing, CSV import/export, and the cached matcher of an organization."""

from __future__ import annotations

import csv
import io
import threading
from dataclasses import dataclass

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext

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
    organization_id = KeywordList.objects.filter(pk=keyword_list_id).values_list("organization_id", flat=True).first()
    if organization_id is not None:
        _forget_stamp(organization_id)


def keyword_list_create(*, organization: Organization, name: str, tiktok_provided: bool = False) -> KeywordList:
    """A new (empty) list. Raises ``ValidationError`` for an empty or duplicate name."""
    name = name.strip()
    if not name:
        raise ValidationError(gettext("A keyword list needs a name."))
    try:
        with transaction.atomic():
            created = KeywordList.objects.create(organization=organization, name=name, tiktok_provided=tiktok_provided)
            _forget_stamp(organization.pk)
            return created
    except IntegrityError:
        raise ValidationError(gettext("A list named “%(name)s” already exists.") % {"name": name}) from None


def keyword_list_set_tiktok_provided(*, keyword_list: KeywordList, tiktok_provided: bool) -> None:
    KeywordList.objects.filter(pk=keyword_list.pk).update(tiktok_provided=tiktok_provided)


def keyword_add(*, keyword_list: KeywordList, phrase: str, flag: str = "") -> KeywordAdded:
    """Add a phrase raising ``flag`` (default: the phrase itself, normalized). Generic words are accepted with
    a warning (see :func:`signals.extract.generic_keyword_warning`); a phrase already in the list is kept as is.
    Bumps the list's version, so every process rebuilds its matcher on the next message."""
    phrase = " ".join(phrase.split())
    if not phrase or not normalize(phrase):
        raise ValidationError(gettext("The keyword is empty."))
    if len(phrase) > 200:
        raise ValidationError(gettext("A keyword is at most 200 characters long."))
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
        raise ValidationError(
            gettext("At most %(max_import_rows)s rows per import.") % {"max_import_rows": MAX_IMPORT_ROWS}
        )
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


#: How long a process trusts the cached stamp without the shared cache telling it otherwise: with Redis a change
#: is seen at once (the stamp is deleted); with the embedded per-process cache, other processes see it this late.
STAMP_TTL_SECONDS = 5


def _stamp_key(organization_id: int) -> str:
    return f"signals:keyword-stamp:{organization_id}"


def _forget_stamp(organization_id: int) -> None:
    """Call inside the transaction that changes a list: drop the cached stamp now (this transaction reads its
    own change) and again after commit (a reader in between may have cached the old one)."""
    key = _stamp_key(organization_id)
    cache.delete(key)
    transaction.on_commit(lambda: cache.delete(key))


def _keyword_stamp(organization_id: int) -> tuple[tuple[int, int], ...]:
    stamp = cache.get(_stamp_key(organization_id))
    if stamp is None:
        stamp = tuple(
            KeywordList.objects.filter(organization_id=organization_id).order_by("id").values_list("id", "version")
        )
        cache.set(_stamp_key(organization_id), stamp, STAMP_TTL_SECONDS)
    return tuple(stamp)


def organization_matcher(organization_id: int) -> KeywordMatcher:
    """The organization's matcher over all its lists, rebuilt only when a list's version stamp changed.

    Runs for every inbound message, so it costs one cache read (the stamp: list ids and versions, kept in the
    shared cache for :data:`STAMP_TTL_SECONDS` and dropped by every change); the keywords are read and compiled
    only after a change, once per process. An organization with no list at all pays no query.
    """
    stamp = _keyword_stamp(organization_id)
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
