"""One line ending for template sources.

Browsers submit textareas with CRLF line endings (the HTML form encoding requires it), files
from Windows editors carry CRLF and old Mac ones CR. The MJML compiler rejects a CR in the
root template, and line numbers and the single-line rule for subjects count LF, so every
way in (the admin form, the live preview, the service behind the API and commands)
converts to LF first.
"""

from __future__ import annotations


def newlines_normalise(source: str) -> str:
    return source.replace("\r\n", "\n").replace("\r", "\n")
