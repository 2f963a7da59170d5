"""The consumer dashboard (examples/dashboard) in a real headless browser: Debian's chromium, driven by
Playwright. The page is served from an origin of its own (as a customer-facing site would serve it), so every
call it makes to meterd crosses origins under meterd's CORS settings. It must plot the numbers a meter query
gives, and move the live balance when usage is ingested. A screenshot lands in the test's directory.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from support import ROOT

from meterd.client import OpenMeter, WindowSize
from meterd.server.app import MeterdServer
from meterd.server.config import Config

KEY = "dashboard-admin-key"
ZONE = "Asia/Kolkata"  # +05:30: the page's days are not UTC days
DAYS = 14  # the page's default
DASHBOARD = ROOT / "examples" / "dashboard"
# Chromium as root needs --no-sandbox; the rest keep it from reaching for the network at start (closed here).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
WAIT_MS = 30_000  # every wait on the page is for a condition, bounded by this deadline


def _missing(what: str) -> None:
    """Skipped where the browser is missing, except in CI (make setup installs it there)."""
    if os.environ.get("CI") or os.environ.get("METERD_BROWSER_REQUIRE"):
        pytest.fail(f"{what} is not installed: make setup installs it")
    pytest.skip(f"{what} is not installed (make setup installs it)")


def chromium() -> str:
    """Debian's chromium (scripts/ensure-chromium.sh), or METERD_CHROMIUM."""
    path = os.environ.get("METERD_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        _missing("Debian's chromium package")
    return path


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def site() -> Iterator[str]:
    """examples/dashboard served by a plain static server: the page's origin, not meterd's."""
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Quiet, directory=str(DASHBOARD))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def browser() -> Iterator[Any]:
    try:
        from playwright import sync_api
    except ImportError:
        _missing("playwright (the dev extra)")
    executable = chromium()
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def usage_events(now: datetime) -> list[dict[str, Any]]:
    """customer-1's usage on several days of the last two weeks (and noise the page must not show)."""
    events = []
    for i, (days_ago, tokens) in enumerate(
        [(0, 120), (0, 30), (1, 400), (3, 75), (3, 25.5), (6, 1234), (12, 9)]
    ):
        events.append(
            {
                "specversion": "1.0",
                "id": f"u{i}",
                "source": "dash",
                "type": "prompt",
                "subject": "customer-1",
                "time": now - timedelta(days=days_ago, minutes=2),
                "data": {"tokens": tokens},
            }
        )
    events.append(
        {
            "specversion": "1.0",
            "id": "other",
            "source": "dash",
            "type": "prompt",
            "subject": "customer-2",
            "time": now - timedelta(minutes=2),
            "data": {"tokens": 5000},
        }
    )
    events.append(
        {
            "specversion": "1.0",
            "id": "old",
            "source": "dash",
            "type": "prompt",
            "subject": "customer-1",
            "time": now - timedelta(days=40),
            "data": {"tokens": 7777},
        }
    )
    return events


def expected_days(om: OpenMeter, now: datetime) -> tuple[datetime, dict[str, float]]:
    """The page's query, made by the Python client: DAY windows in the page's zone over its 14 days."""
    zone = ZoneInfo(ZONE)
    today = now.astimezone(zone).date()
    first = datetime.combine(today - timedelta(days=DAYS - 1), datetime.min.time(), zone)
    rows = om.meters.query(
        "tokens", subject=["customer-1"], from_=first, window_size=WindowSize.DAY, window_time_zone=ZONE
    ).rows
    return first, {r.window_start.astimezone(zone).date().isoformat(): r.value for r in rows}


def label(value: float) -> str:
    """A number as the page writes it (en-US, at most 2 decimals)."""
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def test_the_dashboard_plots_usage_and_follows_the_balance(tmp_path: Path, site: str, browser: Any) -> None:
    from playwright.sync_api import expect

    config = Config(
        listen="127.0.0.1:0",
        http_listen="127.0.0.1:0",
        db=str(tmp_path / "m.db"),
        admin_key=KEY,
        grace_seconds=2.0,
        log_format="text",
        cors_allowed_origins=[site],
        meters=[{"slug": "tokens", "eventType": "prompt", "aggregation": "SUM", "valueProperty": "$.tokens"}],
    )
    server = MeterdServer(config).start()
    try:
        with OpenMeter(server.address, api_key=KEY, timeout=30) as om:
            om.features.create({"key": "ai_tokens", "name": "AI tokens", "meterSlug": "tokens"})
            now = datetime.now(UTC)
            om.events.ingest(usage_events(now))
            om.subjects.create_entitlement(
                "customer-1",
                {
                    "type": "metered",
                    "featureKey": "ai_tokens",
                    "usagePeriod": {"interval": "MONTH"},
                    "issueAfterReset": 10_000,
                },
            )
            token = om.portal.create_token(subject="customer-1", allowed_meter_slugs=["tokens"]).token
            first, expected = expected_days(om, now)
            assert len(expected) >= 3 and all(v > 0 for v in expected.values())
            balance = om.subjects.get_entitlement_value("customer-1", "ai_tokens").balance

            context = browser.new_context(
                timezone_id=ZONE, locale="en-US", viewport={"width": 1200, "height": 900}
            )
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(f"{site}/index.html")
            page.fill("#base-url", f"http://{server.http_address}")
            page.fill("#token", token)
            page.click("#open")  # the meter comes from the token's allowed meters

            page.wait_for_selector("#chart g.day", state="attached", timeout=WAIT_MS)
            expect(page.locator("#live")).to_have_text("live", timeout=WAIT_MS)
            amount = page.locator(".balance[data-feature=ai_tokens] .amount")
            expect(amount).to_have_text(label(balance), timeout=WAIT_MS)

            bars = page.eval_on_selector_all(
                "#chart g.day",
                "els => els.map(e => [e.dataset.day, Number(e.dataset.value),"
                " e.querySelector('.bar-label') ? e.querySelector('.bar-label').textContent : null])",
            )
            assert len(bars) == DAYS and bars[0][0] == first.date().isoformat()
            shown = {day: value for day, value, _ in bars if value}
            assert shown == expected  # the chart's numbers are the meter query's
            assert {day: text for day, _, text in bars if text} == {d: label(v) for d, v in expected.items()}
            assert page.text_content("#total") == label(sum(expected.values()))
            assert page.get_attribute("#chart svg", "aria-label") == "tokens per day"

            # Usage ingested now: the live balance moves (Server-Sent Events), and the chart follows.
            om.events.ingest(
                {
                    "specversion": "1.0",
                    "id": "live-1",
                    "source": "dash",
                    "type": "prompt",
                    "subject": "customer-1",
                    "data": {"tokens": 500},
                }
            )
            after = om.subjects.get_entitlement_value("customer-1", "ai_tokens").balance
            assert after == balance - 500
            expect(amount).to_have_text(label(after), timeout=WAIT_MS)
            today = datetime.now(UTC).astimezone(ZoneInfo(ZONE)).date().isoformat()
            _, refreshed = expected_days(om, now)
            today_bar = page.locator(f'#chart g.day[data-day="{today}"]')
            expect(today_bar).to_have_attribute(
                "data-value", str(refreshed[today]).removesuffix(".0"), timeout=WAIT_MS
            )

            shot = tmp_path / "dashboard.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 10_000
            print(f"screenshot: {shot}")
            assert errors == []
            context.close()
    finally:
        server.stop(0)


def test_an_origin_not_allowed_is_kept_out_by_the_browser(tmp_path: Path, site: str, browser: Any) -> None:
    """The same page from an origin meterd does not list: the browser refuses the page the answers."""
    from playwright.sync_api import expect

    config = Config(
        listen="127.0.0.1:0",
        http_listen="127.0.0.1:0",
        db=str(tmp_path / "m.db"),
        grace_seconds=2.0,
        log_format="text",
        cors_allowed_origins=["https://somewhere.else.example"],
        meters=[{"slug": "tokens", "eventType": "prompt", "aggregation": "SUM", "valueProperty": "$.tokens"}],
    )
    server = MeterdServer(config).start()
    try:
        with OpenMeter(server.address, timeout=30) as om:
            token = om.portal.create_token(subject="customer-1").token
        page = browser.new_page()
        page.goto(f"{site}/index.html#baseUrl=http://{server.http_address}&meter=tokens&token={token}")
        expect(page.locator("#error")).to_contain_text("Failed to fetch", timeout=WAIT_MS)
        expect(page.locator("#live")).not_to_have_text("live", timeout=WAIT_MS)
        assert page.locator("#chart g.day").count() == 0
        page.close()
    finally:
        server.stop(0)


def test_the_dashboard_served_by_meterd_needs_no_cors(tmp_path: Path, browser: Any) -> None:
    """make run's way: the page at meterd's own /dashboard/, the token in the address's fragment."""
    from playwright.sync_api import expect

    config = Config(
        listen="127.0.0.1:0",
        http_listen="127.0.0.1:0",
        db=str(tmp_path / "m.db"),
        grace_seconds=2.0,
        log_format="text",
        dashboard_dir=str(DASHBOARD),
        meters=[{"slug": "tokens", "eventType": "prompt", "aggregation": "SUM", "valueProperty": "$.tokens"}],
    )
    server = MeterdServer(config).start()
    try:
        with OpenMeter(server.address, timeout=30) as om:
            om.features.create({"key": "sso", "name": "SSO"})
            om.subjects.create_entitlement("customer-1", {"type": "boolean", "featureKey": "sso"})
            om.events.ingest(
                {
                    "specversion": "1.0",
                    "id": "e1",
                    "source": "dash",
                    "type": "prompt",
                    "subject": "customer-1",
                    "data": {"tokens": 42},
                }
            )
            token = om.portal.create_token(subject="customer-1", allowed_meter_slugs=["tokens"]).token
        page = browser.new_page()
        page.goto(f"http://{server.http_address}/dashboard/#token={token}")
        expect(page.locator("#base-url")).to_have_value(f"http://{server.http_address}", timeout=WAIT_MS)
        expect(page.locator("#total")).to_have_text("42", timeout=WAIT_MS)
        expect(page.locator(".balance[data-feature=sso] .amount")).to_have_text("on", timeout=WAIT_MS)
        page.close()
    finally:
        server.stop(0)
