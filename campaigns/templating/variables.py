"""The documented template variables, and the check that a template uses no others.

The check walks the parsed Django template: every variable lookup (in `{{ }}`, in filter
arguments, in `{% if %}` conditions, `{% for %}` sequences…) must start with a documented
name, a name bound by an enclosing `{% for %}` / `{% with %}`, or one set with `as`.
"""

from __future__ import annotations

import re
from typing import Any

from django.template import Template, TemplateSyntaxError
from django.template.base import FilterExpression, Node, NodeList, Variable
from django.template.defaulttags import ForNode, TemplateLiteral, WithNode
from django.template.loader_tags import BlockNode, ExtendsNode, IncludeNode

from campaigns.templating.context import CART_ATTRIBUTES, CUSTOMER_ATTRIBUTES, MESSAGE_ATTRIBUTES, SHOP_ATTRIBUTES
from campaigns.templating.engine import validation_engine
from campaigns.templating.library import REFUSED, EmailTagError
from campaigns.templating.problems import TemplateProblem

VARIABLES: dict[str, str] = {
    "customer": "The recipient: " + ", ".join(sorted(CUSTOMER_ATTRIBUTES)) + ".",
    "first_name": "Shortcut for customer.first_name.",
    "last_order": "Latest order (None for leads): external_id, placed_at, total, currency, items.",
    "products_bought": "Products the customer ordered, newest first: name, sku, category, url, image_url.",
    "recommended_products": "Up to 3 products to suggest: name, sku, category, price, currency, url, image_url.",
    "offer": "The step's offer: code, description, percent_off, amount_off, expires_at, url (may be empty).",
    "cart": "Abandoned cart: items (name, quantity, unit_price, url, image_url), value, currency, url (restores it).",
    "unsubscribe_url": "The recipient's one-click unsubscribe page (required in every template).",
    "shop": "Your shop: name, url, postal_address.",
    "message": "This email: id (None in previews), is_preview.",
    "subject": "The rendered subject (body only).",
    "preheader": "The rendered preheader (body only).",
}
_FIXED_ATTRIBUTES = {
    "customer": CUSTOMER_ATTRIBUTES,
    "shop": SHOP_ATTRIBUTES,
    "message": MESSAGE_ATTRIBUTES,
    "cart": CART_ATTRIBUTES,
}
_ENGINE_NAMES = frozenset({"True", "False", "None"})
_HEADER_ONLY_EXCLUDED = frozenset({"subject", "preheader"})
_FORBIDDEN_NODES = (ExtendsNode, IncludeNode, BlockNode)
# Customer data must always be escaped in HTML: no opting out in the body.
_UNESCAPE_RE = re.compile(r"\{%\s*autoescape\s+off\s*%\}|\|\s*safe(?:seq)?\b")
_INVALID_TAG_RE = re.compile(r"Invalid block tag on line \d+: '(?P<name>[^']+)'(?P<expected>, expected)?")
_INVALID_FILTER_RE = re.compile(r"Invalid filter: '(?P<name>[^']+)'")


def _bound_anywhere(nodelist: NodeList) -> set[str]:
    """Names set with `as` by tags such as cycle, firstof, regroup, now, url."""
    names: set[str] = set()
    for node in nodelist.get_nodes_by_type(Node):
        for attr in ("asvar", "var_name", "variable_name"):
            value = getattr(node, attr, None)
            if isinstance(value, str) and value:
                names.add(value)
    return names


def _expression_lookups(value: Any, depth: int = 0) -> list[tuple[str, ...]]:
    """Every variable lookup path inside a node attribute (expressions, conditions, args)."""
    if depth > 8 or isinstance(value, NodeList | Node | str):
        return []
    if isinstance(value, FilterExpression):
        found = _expression_lookups(value.var, depth + 1)
        for _func, args in value.filters:
            for is_lookup, arg in args:
                if is_lookup:
                    found += _expression_lookups(arg, depth + 1)
        return found
    if isinstance(value, Variable):
        return [tuple(value.lookups)] if value.lookups else []
    if isinstance(value, TemplateLiteral):
        return _expression_lookups(value.value, depth + 1)
    if isinstance(value, list | tuple):
        return [path for item in value for path in _expression_lookups(item, depth + 1)]
    if isinstance(value, dict):
        return [path for item in value.values() for path in _expression_lookups(item, depth + 1)]
    if hasattr(value, "first") and hasattr(value, "second"):  # smartif operators
        return _expression_lookups(value.first, depth + 1) + _expression_lookups(value.second, depth + 1)
    return []


class _Checker:
    def __init__(self, field: str, roots: frozenset[str]) -> None:
        self.field = field
        self.roots = roots
        self.problems: list[TemplateProblem] = []

    def walk(self, nodelist: NodeList, scope: frozenset[str]) -> None:
        for node in nodelist:
            self.node(node, scope)

    def node(self, node: Node, scope: frozenset[str]) -> None:
        line = node.token.lineno if node.token else None
        if isinstance(node, _FORBIDDEN_NODES):
            tag = node.token.contents.split()[0]
            self.problems.append(TemplateProblem(self.field, line, f"{{% {tag} %}} is not allowed in emails."))
            return
        for name, value in vars(node).items():
            if name in ("token", "origin") or name in node.child_nodelists:
                continue
            for path in _expression_lookups(value):
                self.lookup(path, scope, line)
        if isinstance(node, ForNode) and not isinstance(node.sequence.var, Variable):
            # Nested loops over long literals would multiply into billions of iterations per send.
            message = "{% for %} must loop over a variable, such as cart.items or recommended_products."
            self.problems.append(TemplateProblem(self.field, line, message))
        inner = scope
        if isinstance(node, ForNode):
            inner = scope | {*node.loopvars, "forloop"}
        elif isinstance(node, WithNode):
            inner = scope | set(node.extra_context)
        for attr in node.child_nodelists:
            child = getattr(node, attr, None)
            if child:
                self.walk(child, scope if attr == "nodelist_empty" else inner)

    def lookup(self, path: tuple[str, ...], scope: frozenset[str], line: int | None) -> None:
        root = path[0]
        if root in scope or root in _ENGINE_NAMES:
            return
        if root not in self.roots:
            self.problems.append(TemplateProblem(self.field, line, f"Unknown variable '{'.'.join(path)}'."))
            return
        allowed = _FIXED_ATTRIBUTES.get(root)
        if allowed is not None and len(path) > 1 and path[1] not in allowed:
            self.problems.append(TemplateProblem(self.field, line, f"Unknown variable '{'.'.join(path)}'."))


def template_problems(source: str, *, field: str) -> tuple[Template | None, list[TemplateProblem]]:
    """Parse `source` and list syntax errors and unknown variables, with their lines."""
    unescapes = _unescape_problems(source, field=field) if field == "mjml" else []
    try:
        template = Template(source, engine=validation_engine)
    except TemplateSyntaxError as error:
        if unescapes and _INVALID_FILTER_RE.match(str(error)):
            return None, unescapes  # the |safe that failed to parse, already said in staff's words
        line = getattr(error, "template_debug", {}).get("line")
        message = str(error) if isinstance(error, EmailTagError) else _syntax_message(str(error))
        return None, [TemplateProblem(field, line, message), *unescapes]
    roots = frozenset(VARIABLES) if field == "mjml" else frozenset(VARIABLES) - _HEADER_ONLY_EXCLUDED
    checker = _Checker(field, roots)
    checker.walk(template.nodelist, frozenset(_bound_anywhere(template.nodelist)))
    return template, checker.problems + unescapes


def _unescape_problems(source: str, *, field: str) -> list[TemplateProblem]:
    problems = []
    for match in _UNESCAPE_RE.finditer(source):
        line = source.count("\n", 0, match.start()) + 1
        message = f"'{match.group(0)}' is not allowed: customer data is always HTML-escaped."
        problems.append(TemplateProblem(field, line, message))
    return problems


def _syntax_message(error: str) -> str:
    """Django's parser messages, said in staff's words for tags and filters emails do not have."""
    tag = _INVALID_TAG_RE.match(error)
    if tag:
        name = tag.group("name")
        if name in REFUSED:
            return f"{{% {name} %}} is not allowed in emails: {REFUSED[name]}."
        if not tag.group("expected"):
            return f"There is no {{% {name} %}} tag in emails (or its opening tag is missing)."
    unknown_filter = _INVALID_FILTER_RE.match(error)
    if unknown_filter:
        name = unknown_filter.group("name")
        if name in REFUSED:
            return f"The filter |{name} is not allowed in emails: {REFUSED[name]}."
        return f"There is no filter |{name} in emails."
    return f"Template syntax error: {error}"


def template_roots(template: Template) -> frozenset[str]:
    """The top-level names a parsed template reads (loop variables included; harmless)."""
    roots: set[str] = set()
    for node in template.nodelist.get_nodes_by_type(Node):
        for name, value in vars(node).items():
            if name in ("token", "origin") or name in node.child_nodelists:
                continue
            roots.update(path[0] for path in _expression_lookups(value))
    return frozenset(roots)
