"""What APP_ENV=production refuses to start with: links customers cannot use over https, and the
demo identity (sender, postal address, list domain) that `make run` ships with.

Every problem is listed at once, each with the variable to set, so one restart fixes them all.
"""

from __future__ import annotations

from email.utils import parseaddr
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

DEMO_SHOP_NAME = "Demo Shop"
DEMO_POSTAL_ADDRESS = "Demo Shop Ltd, 1 Example Street, 10115 Berlin, Germany"
# Reserved for documentation and tests (RFC 2606, RFC 6761): no mailbox or site of a real shop.
_RESERVED_SUFFIXES = (".example", ".test", ".invalid", ".localhost", ".local")
_RESERVED_DOMAINS = {"example.com", "example.net", "example.org", "localhost"}
_LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "[::1]", "::1", "0.0.0.0"}  # noqa: S104 - compared, not bound


def _placeholder_domain(domain: str) -> bool:
    domain = domain.strip().lower().rstrip(".")
    if domain in _RESERVED_DOMAINS or any(domain.endswith(suffix) for suffix in _RESERVED_SUFFIXES):
        return True
    return any(domain.endswith(f".{reserved}") for reserved in _RESERVED_DOMAINS)


def _mail_domain(address: str) -> str:
    return parseaddr(address)[1].rpartition("@")[2]


def production_problems(
    *,
    site_url: str,
    default_from_email: str,
    sender_postal_address: str,
    unsubscribe_mailto: str,
    list_id_domain: str,
    shop_name: str,
    shop_url: str,
) -> list[str]:
    problems: list[str] = []
    site = urlsplit(site_url)
    if site.scheme != "https":
        problems.append(
            f"SITE_URL is {site_url!r}: the unsubscribe (List-Unsubscribe) and tracking links in every email "
            "must be https. Set SITE_URL to this app's public https address, e.g. https://mail.yourshop.com"
        )
    elif (site.hostname or "") in _LOOPBACK_HOSTS or _placeholder_domain(site.hostname or ""):
        problems.append(
            f"SITE_URL is {site_url!r}, which customers cannot reach. "
            "Set SITE_URL to this app's public https address, e.g. https://mail.yourshop.com"
        )
    sender_domain = _mail_domain(default_from_email)
    if not sender_domain or _placeholder_domain(sender_domain):
        problems.append(
            f"DEFAULT_FROM_EMAIL is {default_from_email!r}, the demo sender. "
            'Set it to your own sender on a domain your ESP has verified, e.g. "Your Shop <hello@yourshop.com>"'
        )
    if sender_postal_address.strip() in {"", DEMO_POSTAL_ADDRESS}:
        problems.append(
            "SENDER_POSTAL_ADDRESS is the demo address. Set it to your company's postal address: "
            "it is printed in every marketing email (CAN-SPAM, GDPR imprint)"
        )
    if _placeholder_domain(_mail_domain(unsubscribe_mailto)):
        problems.append(
            f"UNSUBSCRIBE_MAILTO is {unsubscribe_mailto!r}, a demo mailbox. "
            "Set it to a mailbox of yours that receives unsubscribe requests, e.g. unsubscribe@yourshop.com"
        )
    if _placeholder_domain(list_id_domain):
        problems.append(
            f"LIST_ID_DOMAIN is {list_id_domain!r}, the demo domain. Set it to your domain, e.g. yourshop.com"
        )
    if shop_name.strip() in {"", DEMO_SHOP_NAME}:
        problems.append(f"SHOP_NAME is {shop_name!r}, the demo name. Set it to the shop name your customers know")
    shop_host = urlsplit(shop_url).hostname or ""
    if shop_host in _LOOPBACK_HOSTS or _placeholder_domain(shop_host):
        problems.append(
            f"SHOP_URL is {shop_url!r}, the demo storefront. Set it to your shop, e.g. https://yourshop.com"
        )
    return problems


def production_settings_refuse(**values: str) -> None:
    """Raise ImproperlyConfigured listing every demo or unsafe value (see production_problems)."""
    problems = production_problems(**values)
    if problems:
        listed = "\n".join(f"  - {problem}" for problem in problems)
        raise ImproperlyConfigured(f"APP_ENV=production refuses to start with these settings:\n{listed}")
