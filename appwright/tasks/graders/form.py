"""`form` checks: the page's own form with no script, and who sees what it saved.

A prompt in people's words names no field, so no step can say "fill `title`". Instead a user
fills the page's first form with plausible values, the way check_app does (runtime/forms.py,
one implementation for both), and then, through the page:
1. the record is saved (the submit wrote to the entity API and it answered 2xx) and listed
   for its author (the page shows the text typed);
2. another signed-in user sees it only where `access` lets others read (shared, public_read,
   admin_write);
3. a signed-out visitor sees it only where it is public (public_read).
Where only admins write (`admin_write`), the user who fills the form is an admin (AppEnv.author_role).
For `submit_only` a signed-out visitor sends the form on `/`; then another user on the app's
other page (graders/ui.py page_path) does not see it, and an admin there does.
A JavaScript error on any of these pages fails the check.
"""

from __future__ import annotations

from appwright.runtime.forms import submit_first_form
from appwright.tasks.graders.common import Context, Fail, expect, short
from appwright.tasks.graders.env import AppEnv
from appwright.tasks.graders.ui import _body, _no_errors, _poll, open_page, page_path
from appwright.tasks.model import FormCheck


def grade_form(env: AppEnv, check: FormCheck, ctx: Context) -> str:
    sends = check.access == "submit_only"
    author = None if sends else env.user("owner")
    with open_page(env, ctx, author) as page:
        result = submit_first_form(page, env.manifest, listed=not sends)
        _no_errors(page)
    who = "a signed-out visitor" if sends else f"a signed-in {env.author_role}" if env.author_role else \
        "a signed-in user"
    expect(result.found, f"{who} sees no form on the page to add a record with (only the sign-in form, if any)")
    expect(result.problem is None, f"{who}: {result.problem}")
    expect(result.created is not None and result.created.startswith("POST"),
           f"{who}: submitting the form sent {result.created}, not a new record")
    expect(result.typed, f"{who} filled the form ({', '.join(result.filled)}), but it has no text box to tell the "
                         "record by")
    text = result.typed[0]
    done = [f"{who} filled the form ({short(', '.join(result.filled), 80)}): {result.created}"]
    if sends:
        path = page_path(env, "admin.html")
        readers = [("another signed-in user", env.user("other"), False),
                   ("an admin", env.user("admin", role="admin"), True)]
    else:
        path = "/"
        readers = [("another signed-in user", env.user("other"), check.access != "owner"),
                   ("a signed-out visitor", None, check.access == "public_read")]
    for name, client, may in readers:
        with open_page(env, ctx, client, path) as page:
            ok, body = _poll(lambda: ((text.lower() in (b := _body(page)).lower()) == may, b), page=page)
            _no_errors(page)
        if not ok:
            raise Fail(f"{name} on {path} " + (f"does not see {text!r}, which the prompt lets them read; "
                                               if may else f"sees {text!r}, which the prompt keeps from them; ")
                       + f"the page shows: {short(body, 200)} (after: {'; '.join(done)})")
        done.append(f"{name} {'sees' if may else 'does not see'} it")
    return "; ".join(done)
