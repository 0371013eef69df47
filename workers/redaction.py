"""Secrets out of what is printed: a URL's password (`redis://:secret@host`) and the values of query
parameters that carry one (`?password=`, `&token=`, `api_key=`...), wherever they stand in a text (a
setting's value, a connection error that repeats the URL)."""

from __future__ import annotations

import re

_USERINFO = re.compile(r"(://[^/\s:@]*):[^/\s@]*@")
_SECRET_PARAMETER = re.compile(
    r"([?&;](?:password|passwd|pwd|pass|secret|token|access_token|refresh_token|api[_-]?key|apikey|key|auth"
    r"|authorization|sig|signature|client_secret)=)[^&;#\s'\"]*",
    re.IGNORECASE,
)


def redacted(text: str) -> str:
    """The text with every URL password and secret query value replaced by ***."""
    return _SECRET_PARAMETER.sub(r"\1***", _USERINFO.sub(r"\1:***@", text))
