"""Walk the admin as one user in a real browser: every visible link, list action and button.

Whatever the admin shows must work for whoever it shows it to, so any response of 400 or more
is a problem: a page, a redirect's target, a download, or a page's own fetches. Each page is
opened in Chromium; its buttons and list actions are then sent as the browser would send them
(the form's own data with that button as submitter, through the browser context's cookies)
without re-rendering the page for each one. Confirmation pages (delete, erase) are opened,
never confirmed, so the data the walk needs stays.
"""

from __future__ import annotations

import os
import re
import sys
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from playwright.sync_api import Error as PlaywrightError

_OBJECT = re.compile(r"^/admin/(\w+)/(\w+)/([^/]+)/")
_SKIP_PATHS = ("/admin/logout/", "/admin/password_change/", "/admin/jsi18n/", "/admin/r/")
_NOT_OBJECTS = {"add", "import-csv", "dashboard", "export-audience", "recipes", "stats"}
_BUTTONS = "#content form :is(input[type=submit], button:not([type=button]):not([type=reset]))"
# What a button would do that the walk must not: confirm a deletion or an erasure, or save an
# object a second way ("Save" is sent), or run the list's action form (actions are sent one by one).
_NOT_SENT = (
    "form:has(input[name=post]) *, form:has(input[name=confirm_gdpr_erase]) *, #changelist-form *, "
    "input[name=_addanother], input[name=_continue], input[name=_saveasnew]"
)
LOG = sys.stderr if os.environ.get("ADMIN_CRAWL_LOG") else None

# The request a click on `button` sends: its form's fields with the button as submitter.
_REQUEST_OF = """(b) => {
    const form = b.form;
    const body = new URLSearchParams(new FormData(form, b)).toString();
    // getAttribute: a field named "action" or "method" shadows the form's properties.
    const action = new URL(form.getAttribute('action') || location.href, location.href).href;
    return {method: (form.getAttribute('method') || 'get').toLowerCase(), action, body};
}"""
_ACTION_REQUEST = """(name) => {
    const form = document.getElementById('changelist-form');
    const box = form.querySelector('input.action-select');
    if (!box) return null;
    form.querySelectorAll('input.action-select').forEach(b => { b.checked = false; });
    box.checked = true;
    form.querySelector('select[name=action]').value = name;
    const go = form.querySelector('button[name=index]');
    const action = new URL(form.getAttribute('action') || location.href, location.href).href;
    return {action, body: new URLSearchParams(new FormData(form, go)).toString()};
}"""


@dataclass
class Walk:
    page: object
    base: str
    max_pages: int = 300
    problems: list[str] = field(default_factory=list)
    visited: list[str] = field(default_factory=list)
    actions_run: list[str] = field(default_factory=list)
    buttons_sent: list[str] = field(default_factory=list)
    _step: str = ""
    _started: float = 0.0

    def __post_init__(self) -> None:
        self.page.on("response", self._on_response)

    def _on_response(self, response) -> None:
        path = urlsplit(response.url).path
        if response.url.startswith(self.base) and response.status >= 400 and path != "/favicon.ico":
            self.problems.append(f"{response.status} {path} (while: {self._step})")

    def _log(self, text: str) -> None:
        if LOG:
            print(f"{time.monotonic() - self._started:7.1f}s {text}", file=LOG, flush=True)

    def run(self, start: str = "/admin/") -> Walk:
        self._started = time.monotonic()
        queue, seen = [start], {start}
        objects: dict[tuple[str, str], str] = {}
        queried: set[str] = set()
        while queue and len(self.visited) < self.max_pages:
            url = queue.pop(0)
            self._step = f"open {url}"
            self._log(self._step)
            self.visited.append(url)
            try:
                response = self.page.goto(self.base + url, wait_until="domcontentloaded")
            except PlaywrightError as error:
                if "Download is starting" not in str(error):
                    raise
                self._send("get", self.base + url, "")  # a download link: its status is what counts
                continue
            if response is None or response.status >= 400 or "html" not in response.headers.get("content-type", ""):
                continue
            for href in self._links():
                parts = urlsplit(href)
                path = parts.path
                if not href.startswith(self.base) or not path.startswith("/admin/") or path.startswith(_SKIP_PATHS):
                    continue
                match = _OBJECT.match(path)
                if match and match.group(3) not in _NOT_OBJECTS:
                    if objects.setdefault(match.group(1, 2), match.group(3)) != match.group(3):
                        continue  # one object per model is enough
                if parts.query:
                    if path in queried:
                        continue  # one variant of a page's parameters (a period, a filtered list)
                    queried.add(path)
                target = path + (f"?{parts.query}" if parts.query else "")
                if target not in seen:
                    seen.add(target)
                    queue.append(target)
            self._run_actions(url)
            self._send_buttons(url)
        return self

    def _links(self) -> list[str]:
        # A list's filter, sort, paging and date links re-open the same view with other parameters:
        # the list itself stands for them.
        return self.page.eval_on_selector_all(
            "#content a[href], #nav-sidebar a[href], #header a[href]",
            """els => els
                .filter(e => !e.closest('#changelist-filter, #result_list thead, .paginator, .xfull, #toolbar'))
                .map(e => new URL(e.getAttribute('href'), location.href).href)""",
        )

    def _send(self, method: str, action: str, body: str) -> None:
        request = self.page.request
        if method == "post":
            headers = {"Content-Type": "application/x-www-form-urlencoded"}
            response = request.post(action, data=body, headers=headers)
        else:
            response = request.get(action.split("?")[0] + (f"?{body}" if body else ""))
        if response.status >= 400:
            self.problems.append(f"{response.status} {urlsplit(response.url).path} (while: {self._step})")

    def _run_actions(self, url: str) -> None:
        if not self.page.query_selector("#changelist-form select[name=action]"):
            return
        names = self.page.eval_on_selector_all(
            "#changelist-form select[name=action] option", "els => els.map(e => e.value).filter(v => v)"
        )
        for name in names:
            request = self.page.evaluate(_ACTION_REQUEST, name)
            if request is None:
                return
            self._step = f"action {name} on {url}"
            self._log(self._step)
            self._send("post", request["action"], request["body"])
            self.actions_run.append(f"{url} {name}")

    def _send_buttons(self, url: str) -> None:
        buttons = self.page.locator(_BUTTONS)
        for index in range(buttons.count()):
            button = buttons.nth(index)
            if not button.is_visible():
                continue
            if button.evaluate(f"(b) => b.matches({_NOT_SENT!r}) || !b.form || !b.form.checkValidity()"):
                continue
            label = " ".join((button.get_attribute("value") or button.text_content() or "").split())
            request = button.evaluate(_REQUEST_OF)
            self._step = f"button {label!r} on {url}"
            self._log(self._step)
            self._send(request["method"], request["action"], request["body"])
            self.buttons_sent.append(f"{url} {label}")
