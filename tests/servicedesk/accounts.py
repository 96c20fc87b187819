"""What a person does with a set-password email: follow its link and choose a password."""

from __future__ import annotations

import re

LINK = re.compile(r"https?://[^/\s]+(/accounts/reset/\S+)")


NEW_PASSWORD = "a-new-long-passphrase"


def choose_password_from_email(client, body: str, password: str = NEW_PASSWORD):
    """Open the emailed link, choose ``password``; returns the form page and the answer to the post."""
    form_page = client.get(LINK.search(body).group(1), follow=True)
    done = client.post(
        form_page.redirect_chain[-1][0], {"new_password1": password, "new_password2": password}
    )
    return form_page, done
