"""One cookie by name, read strictly: two cookies of the same name read as none.

    token = only_cookie(request.headers, "aw_session")   # None when absent *or* sent twice

A browser sends every cookie whose host and path match the request, so a page that may set
cookies for the same host name (another app on a shared origin, any page on that host: cookies
ignore ports) can plant a second `aw_session` beside the real one. Starlette's
`request.cookies` keeps the last of them, and which one comes last depends on paths and
creation times, that is, on the attacker. Here neither is guessed at: the request counts as
carrying no such cookie, so the visitor is signed out, never signed in as someone else.

Does not: stop a page on the same host from setting a cookie when the visitor has none (that
signs the visitor in to the page author's account). Only a separate host name prevents that:
the studio serves previews on another site, and apps that must not touch each other's
cookies need an origin (host name) each (docs/runtime.md).
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.requests import cookie_parser


def only_cookie(headers: Headers, name: str) -> str | None:
    """The value of the one cookie called `name` in the request's Cookie headers; None when
    there is none or more than one."""
    values: list[str] = []
    for header in headers.getlist("cookie"):
        for pair in header.split(";"):  # Starlette's parser keeps one value per name: feed it one pair
            values += [v for k, v in cookie_parser(pair).items() if k == name]
    return values[0] if len(values) == 1 else None
