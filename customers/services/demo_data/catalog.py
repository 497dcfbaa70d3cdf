"""The demo shop's catalogue and the people who buy from it."""

from __future__ import annotations

from decimal import Decimal

from customers.models import Tier

# category -> [(name, price, tier)]: about 40 products in 8 categories, premium lines marked.
CATALOG: dict[str, list[tuple[str, str, str]]] = {
    "Coffee": [
        ("House Blend Beans 1kg", "24.90", Tier.BASE),
        ("Espresso Roast 500g", "14.50", Tier.BASE),
        ("Decaf Colombia 500g", "13.90", Tier.BASE),
        ("Ethiopia Yirgacheffe 250g", "11.90", Tier.BASE),
        ("Reserve Geisha 100g", "39.00", Tier.PREMIUM),
        ("Cold Brew Pack", "9.90", Tier.BASE),
    ],
    "Tea": [
        ("Earl Grey Loose Leaf", "8.50", Tier.BASE),
        ("Sencha Green Tea", "9.20", Tier.BASE),
        ("Chai Spice Blend", "7.90", Tier.BASE),
        ("First Flush Darjeeling", "19.50", Tier.PREMIUM),
        ("Herbal Sampler", "12.00", Tier.BASE),
    ],
    "Brewing gear": [
        ("Pour-Over Dripper", "22.00", Tier.BASE),
        ("French Press 1L", "34.00", Tier.BASE),
        ("Burr Grinder", "89.00", Tier.BASE),
        ("Gooseneck Kettle", "59.00", Tier.BASE),
        ("Espresso Machine Pro", "649.00", Tier.PREMIUM),
        ("Paper Filters x100", "5.50", Tier.BASE),
    ],
    "Mugs & cups": [
        ("Stoneware Mug", "14.00", Tier.BASE),
        ("Double-Wall Glass Set", "24.00", Tier.BASE),
        ("Travel Tumbler", "27.00", Tier.BASE),
        ("Espresso Cups x4", "19.00", Tier.BASE),
        ("Handmade Ceramic Set", "79.00", Tier.PREMIUM),
    ],
    "Snacks": [
        ("Almond Biscotti", "6.50", Tier.BASE),
        ("Dark Chocolate Bar", "4.20", Tier.BASE),
        ("Salted Caramel Cookies", "5.90", Tier.BASE),
        ("Granola Jar", "8.90", Tier.BASE),
        ("Truffle Box", "24.00", Tier.PREMIUM),
    ],
    "Kitchen": [
        ("Milk Frother", "29.00", Tier.BASE),
        ("Digital Scale", "32.00", Tier.BASE),
        ("Storage Canister", "18.00", Tier.BASE),
        ("Barista Apron", "26.00", Tier.BASE),
        ("Cleaning Tablets", "11.00", Tier.BASE),
    ],
    "Gifts": [
        ("Gift Card 25", "25.00", Tier.BASE),
        ("Gift Card 50", "50.00", Tier.BASE),
        ("Tasting Box", "45.00", Tier.BASE),
        ("Connoisseur Hamper", "129.00", Tier.PREMIUM),
    ],
    "Membership": [
        ("Premium Membership (monthly)", "9.90", Tier.PREMIUM),
        ("Premium Membership (yearly)", "99.00", Tier.PREMIUM),
    ],
}
PLAN_CATEGORY = "Membership"
PREMIUM_PLAN = "Premium Membership (monthly)"
TRIAL_DAYS = 14

# (IANA time zone, locale, weight, first names, last names)
REGIONS: list[tuple[str, str, int, list[str], list[str]]] = [
    (
        "Europe/Berlin",
        "de-DE",
        26,
        ["Anna", "Lukas", "Mia", "Jonas", "Lena", "Felix", "Sophie", "Paul"],
        ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Wagner"],
    ),
    (
        "Europe/London",
        "en-GB",
        16,
        ["Oliver", "Amelia", "Harry", "Isla", "George", "Emily"],
        ["Smith", "Jones", "Taylor", "Brown", "Evans", "Walker"],
    ),
    (
        "America/New_York",
        "en-US",
        16,
        ["Liam", "Olivia", "Noah", "Emma", "James", "Ava"],
        ["Johnson", "Williams", "Miller", "Davis", "Garcia", "Moore"],
    ),
    (
        "America/Los_Angeles",
        "en-US",
        8,
        ["Ethan", "Mason", "Harper", "Lucas", "Chloe"],
        ["Martinez", "Lee", "Clark", "Lewis", "Young"],
    ),
    (
        "Europe/Paris",
        "fr-FR",
        10,
        ["Louise", "Gabriel", "Jade", "Hugo", "Chloé", "Arthur"],
        ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Petit"],
    ),
    (
        "Europe/Madrid",
        "es-ES",
        7,
        ["Lucía", "Hugo", "Martina", "Mateo", "Sofía"],
        ["García", "Fernández", "López", "Martínez", "Sánchez"],
    ),
    (
        "America/Sao_Paulo",
        "pt-BR",
        6,
        ["Miguel", "Alice", "Arthur", "Helena", "Davi"],
        ["Silva", "Santos", "Oliveira", "Souza", "Costa"],
    ),
    (
        "Asia/Tokyo",
        "ja-JP",
        5,
        ["Haruto", "Yui", "Sota", "Hina", "Ren"],
        ["Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe"],
    ),
    (
        "Australia/Sydney",
        "en-AU",
        6,
        ["Charlotte", "Jack", "Mia", "William", "Grace"],
        ["Wilson", "Anderson", "Thompson", "White", "Martin"],
    ),
]


def catalog_rows(shop_url: str) -> list[dict]:
    """One dict per product, with stable skus (CAT-01…) so every seed shares the catalogue."""
    rows = []
    for category, products in CATALOG.items():
        code = "".join(ch for ch in category.upper() if ch.isalpha())[:4]
        for index, (name, price, tier) in enumerate(products, start=1):
            slug = "-".join("".join(ch for ch in name.lower() if ch.isalnum() or ch == " ").split())
            rows.append(
                {
                    "sku": f"{code}-{index:02d}",
                    "name": name,
                    "category": category,
                    "price": Decimal(price),
                    "tier": tier,
                    "url": f"{shop_url}/products/{slug}",
                    "image_url": f"{shop_url}/images/{slug}.jpg",
                }
            )
    return rows


def ascii_slug(text: str) -> str:
    """Accents dropped so names make valid, readable email local parts."""
    table = str.maketrans("äöüéèáíóúçãñ", "aoueeaiouean")
    return "".join(ch for ch in text.lower().translate(table) if ch.isalnum())
