"""The catalog: products, and CSV imports with per-row results."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from inbox.commerce import money
from inbox.commerce.models import CatalogImport, Product
from inbox.commerce.permissions import check_can_manage_catalog
from inbox.models import Organization

REQUIRED_COLUMNS = ("sku", "name", "price", "currency")
OPTIONAL_COLUMNS = ("stock", "active")
MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_IMPORT_ROWS = 50_000
BATCH_ROWS = 100
TRUE_WORDS = {"1", "true", "yes", "y", "active", ""}
FALSE_WORDS = {"0", "false", "no", "n", "inactive"}


@dataclass(frozen=True)
class ProductFields:
    sku: str
    name: str
    price: Any
    currency: str
    stock: Any = None
    active: Any = True


def _clean(fields: ProductFields) -> dict[str, Any]:
    """Validated product values, or ``ValidationError`` listing every problem of the row."""
    errors: list[str] = []
    sku = (fields.sku or "").strip()
    name = (fields.name or "").strip()
    if not sku:
        errors.append("sku is empty")
    elif len(sku) > 64:
        errors.append("sku is longer than 64 characters")
    if not name:
        errors.append("name is empty")
    elif len(name) > 200:
        errors.append("name is longer than 200 characters")
    currency = price = None
    try:
        currency = money.validate_currency(fields.currency)
    except ValidationError as exc:
        errors.extend(exc.messages)
    if currency:
        try:
            price = money.parse_amount(fields.price, currency, field="price")
        except ValidationError as exc:
            errors.extend(exc.messages)
    stock = None
    if fields.stock not in (None, ""):
        try:
            stock = int(str(fields.stock).strip())
            if stock < 0:
                raise ValueError
        except ValueError:
            errors.append(f"stock: {fields.stock!r} is not a whole number of 0 or more (leave empty for untracked)")
    active_word = str(fields.active if fields.active is not None else "").strip().lower()
    if isinstance(fields.active, bool):
        active = fields.active
    elif active_word in TRUE_WORDS:
        active = True
    elif active_word in FALSE_WORDS:
        active = False
    else:
        errors.append(f"active: {fields.active!r} is not yes/no")
        active = True
    if errors:
        raise ValidationError(errors)
    return {"sku": sku, "name": name, "price": price, "currency": currency, "stock": stock, "active": active}


def product_upsert(*, user: Any, organization: Organization, fields: ProductFields) -> tuple[Product, bool]:
    """Create the product with this SKU, or update it. Returns ``(product, created)``."""
    check_can_manage_catalog(user, organization)
    values = _clean(fields)
    return _upsert(organization=organization, values=values)


def _upsert(*, organization: Organization, values: dict[str, Any]) -> tuple[Product, bool]:
    with transaction.atomic():
        product = Product.objects.select_for_update().filter(organization=organization, sku=values["sku"]).first()
        if product is None:
            return Product.objects.create(organization=organization, **values), True
        for key, value in values.items():
            setattr(product, key, value)
        product.updated_at = timezone.now()
        product.save()
        return product, False


def product_set_active(*, user: Any, product: Product, active: bool) -> Product:
    check_can_manage_catalog(user, product.organization_id)
    Product.objects.filter(pk=product.pk).update(active=active, updated_at=timezone.now())
    product.active = active
    return product


def catalog_import_start(*, user: Any, organization: Organization, filename: str, content: bytes) -> CatalogImport:
    """Accept a CSV upload (UTF-8, header ``sku,name,price,currency[,stock,active]``) and apply it.

    Small files are applied before this returns; larger ones by the ``commerce.catalog_import`` task, the page
    following its progress. A header problem refuses the whole file; a bad row is reported and skipped.
    """
    check_can_manage_catalog(user, organization)
    if len(content) > MAX_IMPORT_BYTES:
        raise ValidationError(
            gettext("The file is larger than %(value)s MB: split it.") % {"value": MAX_IMPORT_BYTES // (1024 * 1024)}
        )
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError(gettext("The file is not UTF-8 text: save it as 'CSV UTF-8' and try again.")) from exc
    reader = csv.reader(io.StringIO(text))
    header = [h.strip().lower() for h in next(reader, [])]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise ValidationError(
            gettext("The first row must name the columns; missing: %(value)s. Expected: %(value2)s.")
            % {"value": ", ".join(missing), "value2": ", ".join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)}
        )
    rows = sum(1 for row in reader if any(cell.strip() for cell in row))
    if rows == 0:
        raise ValidationError(gettext("The file has a header but no product rows."))
    if rows > MAX_IMPORT_ROWS:
        raise ValidationError(
            gettext("The file has %(rows)s rows; at most %(max_import_rows)s per import.")
            % {"rows": rows, "max_import_rows": MAX_IMPORT_ROWS}
        )
    job = CatalogImport.objects.create(
        organization=organization, created_by=user, filename=filename[:200], content=text, total_rows=rows
    )
    if rows <= getattr(settings, "COMMERCE_IMPORT_INLINE_ROWS", 200):
        catalog_import_run(import_id=job.pk)
        job.refresh_from_db()
    else:
        from inbox.commerce.tasks import catalog_import

        transaction.on_commit(lambda: catalog_import.delay(job.pk))
    return job


def catalog_import_run(*, import_id: int) -> CatalogImport:
    """Apply an import's rows in batches, saving progress after each batch. Safe to run again: rows are upserts by
    SKU and a finished import is left alone."""
    job = CatalogImport.objects.select_related("organization").get(pk=import_id)
    if job.status in (CatalogImport.Status.DONE, CatalogImport.Status.FAILED):
        return job
    CatalogImport.objects.filter(pk=job.pk).update(status=CatalogImport.Status.RUNNING)
    reader = csv.DictReader(io.StringIO(job.content))
    reader.fieldnames = [(name or "").strip().lower() for name in reader.fieldnames or []]
    results: list[dict[str, Any]] = []
    created = updated = 0
    batch: list[tuple[int, dict[str, str]]] = []

    def flush() -> None:
        nonlocal created, updated
        with transaction.atomic():
            for line, row in batch:
                sku = (row.get("sku") or "").strip()
                try:
                    values = _clean(ProductFields(**{k: row.get(k) for k in REQUIRED_COLUMNS + OPTIONAL_COLUMNS}))
                    _, was_created = _upsert(organization=job.organization, values=values)
                except ValidationError as exc:
                    results.append({"row": line, "sku": sku, "result": "error", "message": "; ".join(exc.messages)})
                    continue
                created += was_created
                updated += not was_created
                results.append({"row": line, "sku": sku, "result": "created" if was_created else "updated"})
            CatalogImport.objects.filter(pk=job.pk).update(
                processed_rows=len(results), created_count=created, updated_count=updated, results=results
            )
        batch.clear()

    try:
        for row in reader:
            if not any((value or "").strip() for value in row.values() if isinstance(value, str)):
                continue
            batch.append((reader.line_num, row))
            if len(batch) >= BATCH_ROWS:
                flush()
        if batch:
            flush()
    except csv.Error as exc:
        CatalogImport.objects.filter(pk=job.pk).update(
            status=CatalogImport.Status.FAILED, error=f"line {reader.line_num}: {exc}"[:500], finished_at=timezone.now()
        )
        return CatalogImport.objects.get(pk=job.pk)
    CatalogImport.objects.filter(pk=job.pk).update(status=CatalogImport.Status.DONE, finished_at=timezone.now())
    return CatalogImport.objects.get(pk=job.pk)
