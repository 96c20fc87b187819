"""A crawler for the page crawl tests: follows every link a person can see, in-process, and lists
what a user should never read (developer text, broken links, English on a Spanish page).

Pages are fetched with Django's test client, so a crawl of a few hundred pages takes seconds.
Each URL name is visited a few times at most (a list's first pages, a few detail pages), which
covers every template without visiting every row.
"""

from __future__ import annotations

import re
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urldefrag, urlsplit

from django.test import Client
from django.urls import Resolver404, resolve

# Links a crawl does not follow: actions and files rather than pages, and Django's own admin.
SKIP_PREFIXES = ("/admin/", "/static/", "/media/", "/accounts/logout/", "/healthz")
# Visible text that is developer text, never meant for a user.
DEVELOPER_TEXT = {
    "an untranslated placeholder": re.compile(r"%\(\w+\)[sdf]|\{\{|\{%|%\}|\}\}"),
    "a constraint name": re.compile(r"Constraint “|is violated\.", re.IGNORECASE),
    "a metric key": re.compile(
        r"\b(?:feedback|recovery|delivery|design|dashboard|servicedesk|tests)\.[a-z]+_[a-z_]+\b"
    ),
    "a blank choice": re.compile(r"-{5,}"),
    "an empty URL part": re.compile(r"/[\w-]*//|/None/"),
    "a Python value": re.compile(r"\bNone\s*(?:%|h\b|days?\b|hours?\b)|<[A-Za-z.]+ object at 0x|\[\]|\{\}"),
}  # fmt: skip
# English words no Spanish sentence uses: one of them on a Spanish page is English left behind.
ENGLISH_WORDS = re.compile(
    r"\b(?:the|and|your|you|please|with|this|what|was|were|our|we|how|would|thank|thanks|"
    r"answer|question|next|back|send|sent|about|again|visit|today|there|here)\b",
    re.IGNORECASE,
)


class _Reader(HTMLParser):
    """The links and the text a person can see (or hear, for attributes read out) on a page."""

    SPOKEN_ATTRIBUTES = ("title", "aria-label", "placeholder", "alt")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.urls: list[str] = []  # every URL the page names: links, forms, images, scripts
        self.text: list[str] = []
        self.ids: Counter[str] = Counter()
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag in ("script", "style", "template"):
            self._hidden += 1
        if values.get("id"):
            self.ids[values["id"]] += 1
        if tag == "a" and "href" in values:
            self.links.append(values["href"])
        for name in ("href", "action", "src"):
            if name in values:
                self.urls.append(values[name])
        self.text += [values[name] for name in self.SPOKEN_ATTRIBUTES if values.get(name)]

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden and data.strip():
            self.text.append(" ".join(data.split()))


@dataclass
class Crawl:
    """What a crawl saw: the pages it opened and each problem, with the page it was on."""

    pages: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    names: Counter[str] = field(default_factory=Counter)

    def report(self) -> str:
        """Each problem once, in the order met (a form repeated on every row says it once)."""
        return "\n".join(dict.fromkeys(self.problems))


def read(html: str) -> _Reader:
    reader = _Reader()
    reader.feed(html)
    return reader


def text_problems(texts: Iterable[str]) -> list[str]:
    """Developer text in what a person reads: each as "<kind>: <the text>"."""
    return [
        f"{kind}: {text[:160]!r}"
        for text in texts
        for kind, pattern in DEVELOPER_TEXT.items()
        if pattern.search(text)
    ]


def english_on_spanish_page(texts: Iterable[str]) -> list[str]:
    return [f"English on a Spanish page: {text[:160]!r}" for text in texts if ENGLISH_WORDS.search(text)]


def _url_name(path: str) -> str | None:
    try:
        match = resolve(path)
    except Resolver404:
        return None
    return match.view_name


def _followable(href: str) -> str | None:
    """The same-site path (and query) a link leads to, or None for links elsewhere or to actions."""
    href, _ = urldefrag(href)
    parts = urlsplit(href)
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return None
    if parts.path.startswith(SKIP_PREFIXES):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def crawl(
    client: Client,
    start: Iterable[str],
    *,
    per_name: int = 3,
    limit: int = 800,
    check: Callable[[str, _Reader], list[str]] | None = None,
    skip: Callable[[str], bool] | None = None,
) -> Crawl:
    """Open ``start`` and every page linked from what it opens, as ``client`` (one role).

    A link must open (200, or a redirect to a page that does): a 403, 404 or 405 behind a link
    is a problem, as is developer text on the page. Downloads (CSV, PDF) count as pages but are
    not read. ``check`` adds page-specific checks (such as English on a Spanish page); ``skip``
    names paths not to open (the whole-site benchmark leaves out downloads of five years of data).
    """
    seen: set[str] = set()
    queue = deque((path, "(start)") for path in start)
    result = Crawl()
    while queue and len(result.pages) < limit:
        path, linked_from = queue.popleft()
        if path in seen:
            continue
        seen.add(path)
        name = _url_name(urlsplit(path).path)
        if name is None:
            result.problems.append(f"{path} (linked from {linked_from}): no such page")
            continue
        if result.names[name] >= per_name or (skip is not None and skip(path)):
            continue
        result.names[name] += 1
        response = client.get(path, follow=True)
        result.pages.append(path)
        if response.status_code != 200:
            result.problems.append(f"{path} (linked from {linked_from}): status {response.status_code}")
            continue
        if "html" not in response.get("Content-Type", ""):
            continue
        page = read(response.content.decode())
        found = text_problems(page.text)
        found += [f"an empty URL part: {url!r}" for url in page.urls if "//" in urlsplit(url).path]
        found += [f"the id {id_!r} is on {n} elements" for id_, n in page.ids.items() if n > 1]
        if check is not None:
            found += check(path, page)
        result.problems += [f"{path}: {problem}" for problem in found]
        for href in page.links:
            if (target := _followable(href)) and target not in seen:
                queue.append((target, path))
    return result
