"""Browser tests: Playwright drives the system's Chromium against pytest-django's live server.

Playwright never downloads a browser here; without /usr/bin/chromium these tests are skipped.
Set ATELIER_SCREENSHOTS to a folder (``make screenshots``) to save a screenshot of each page.
"""

import os
import tempfile
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("ATELIER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def pytest_collection_modifyitems(config, items):
    reason = None
    if not Path(CHROMIUM).exists():
        reason = f"needs Chromium at {CHROMIUM} (apt-get install chromium)"
    else:
        try:
            import playwright  # noqa: F401
        except ImportError:
            reason = "needs the playwright package (requirements/dev.txt)"
    e2e = [item for item in items if "e2e" in item.keywords]
    for item in e2e:
        if reason:
            item.add_marker(pytest.mark.skip(reason=reason))
    if e2e and not reason:
        _sqlite_on_disk()


def _sqlite_on_disk():
    """Gives SQLite test runs a database file instead of the shared in-memory one.

    The live server answers the browser's parallel requests (an event stream, images, pages)
    on several threads. With in-memory SQLite they all share one connection and fail with
    "database table is locked"; with a file each thread has its own connection and SQLite's
    busy timeout orders their writes. PostgreSQL needs nothing.
    """
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3" and not database.get("TEST", {}).get("NAME"):
        # Per process, so that parallel runs never share a file; Django deletes it at the end.
        name = Path(tempfile.gettempdir()) / f"atelier-e2e-{os.getpid()}.sqlite3"
        database.setdefault("TEST", {})["NAME"] = str(name)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread, and Django refuses database
    # calls from a thread with a running loop. The test's own calls are synchronous, so allow
    # them while the browser is open, and restore the guard afterwards.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def new_page(browser):
    """Opens pages in fresh browser contexts (fresh cookies), all closed after the test."""
    contexts = []

    def open_page():
        context = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
        context.set_default_timeout(20_000)
        contexts.append(context)
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        return page

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def screenshot():
    """Saves a screenshot of the page when ATELIER_SCREENSHOTS names a folder."""
    folder = os.environ.get("ATELIER_SCREENSHOTS")

    def take(page, name: str, *, full_page: bool = False):
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            # From the top, so that the sticky header sits where it belongs in a full-page shot.
            page.evaluate("window.scrollTo(0, 0)")
            page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=full_page)

    return take


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed journey's report ends with the last lines the product's processes printed."""
    outcome = yield
    report = outcome.get_result()
    product = getattr(item, "funcargs", {}).get("product")
    if report.failed and product is not None and hasattr(product, "log"):
        tail = "\n".join(product.log().splitlines()[-120:])
        report.sections.append(("the product's processes (last lines of their log)", tail))
