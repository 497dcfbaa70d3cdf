"""Keep the product catalogue in step with what the shop sends."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from customers.models import Product

_FIELDS = ("name", "category", "price", "currency", "url", "image_url")


@dataclass(frozen=True)
class ProductFacts:
    sku: str
    name: str | None = None
    category: str | None = None
    price: Decimal | None = None
    currency: str | None = None
    url: str | None = None
    image_url: str | None = None


def _values(facts: ProductFacts) -> dict:
    return {field: getattr(facts, field) for field in _FIELDS if getattr(facts, field) is not None}


def products_ensure(*, facts: list[ProductFacts]) -> dict[str, Product]:
    """Products by sku, creating unknown ones and filling only their blank fields.

    Used for order and cart lines, whose names and prices describe one sale, not the
    catalogue: an existing product keeps what it has.
    """
    wanted = {item.sku: item for item in facts}
    existing = {product.sku: product for product in Product.objects.filter(sku__in=wanted)}
    missing = [
        Product(sku=sku, **{"name": sku, **_values(item)}) for sku, item in wanted.items() if sku not in existing
    ]
    if missing:
        Product.objects.bulk_create(missing, ignore_conflicts=True)
        existing = {product.sku: product for product in Product.objects.filter(sku__in=wanted)}
    for sku, product in existing.items():
        changed = []
        for field, value in _values(wanted[sku]).items():
            current = getattr(product, field)
            # A product created from a bare sku has the sku as its name: a real name replaces it.
            blank = current in (None, "") or (field == "name" and current == sku)
            if blank and current != value:
                setattr(product, field, value)
                changed.append(field)
        if changed:
            product.save(update_fields=changed)
    return existing


def product_upsert(*, facts: ProductFacts) -> Product:
    """Create or update one product with every field the shop sent (a product view carries catalogue data)."""
    product, created = Product.objects.get_or_create(sku=facts.sku, defaults={"name": facts.sku, **_values(facts)})
    if not created:
        changed = [f for f, v in _values(facts).items() if getattr(product, f) != v]
        for field in changed:
            setattr(product, field, getattr(facts, field))
        if changed:
            product.save(update_fields=changed)
    return product
