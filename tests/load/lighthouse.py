"""Lighthouse 12 (mobile, its default simulated slow 4G and mid-range phone) on the pages people
open most, in production mode: gunicorn, DEBUG off, whitenoise serving compressed static files,
PostgreSQL and Redis, the demo practice; the manager signed in with their two-factor code.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/servicedesk make lighthouse

It works in a scratch database ``<name>_lighthouse`` (dropped afterwards) and prints one line per
page and category; it exits 1 when a page scores under the targets (performance 90,
accessibility 100). Lighthouse comes from ``tools/lighthouse`` (npm, pinned by its lock file) and
drives Debian's Chromium (``CHROMIUM``, default /usr/bin/chromium).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from base64 import b32decode
from pathlib import Path

from tests.load import harness

ROOT = Path(__file__).resolve().parents[2]
LIGHTHOUSE = ROOT / "tools" / "lighthouse" / "node_modules" / "lighthouse" / "cli" / "index.js"
TARGETS = {"performance": 90, "accessibility": 100}
# (label, path, signed in as the manager?)
PAGES = [
    ("dashboard (manager)", "/dashboard/", True),
    ("incident list (manager)", "/recovery/incidents/", True),
    ("kiosk survey (patient)", "/k/waiting-room-kiosk/", False),
]
ATTEMPTS = 3
DEMO_KEY = b32decode("SERVICEDESKDEMOMANAGERTOTPSECRET")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per page; the median score is reported")
    args = parser.parse_args(argv)
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgres"):
        print("Set DATABASE_URL to a PostgreSQL database (its name is the prefix of the scratch one).")
        return 2
    if not LIGHTHOUSE.exists():
        print("Lighthouse is not installed: npm ci --prefix tools/lighthouse")
        return 2
    database_url = harness.scratch_database_url(base, "lighthouse")
    env = harness.production_env(
        database_url=database_url, redis_url=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/7")
    )
    harness.create_database(database_url)
    try:
        harness.manage(env, "migrate", "--noinput")
        harness.manage(env, "seed_demo", "--force", timeout=3600)
        harness.manage(env, "refresh_dashboard", "--all", timeout=3600)
        harness.manage(env, "collectstatic", "--noinput")
        with harness.gunicorn(env, workers=2) as url:
            harness.warm_up(url, [path for _label, path, signed_in in PAGES if not signed_in], rounds=3)
            cookie = _manager_cookie(url)
            scores = {
                label: _median_scores(url + path, cookie if signed_in else "", args.runs)
                for label, path, signed_in in PAGES
            }
    finally:
        harness.drop_database(database_url)
    print(f"Lighthouse 12, mobile, production mode, median of {args.runs} runs:")
    failed = False
    for label, by_category in scores.items():
        for category, score in by_category.items():
            ok = score >= TARGETS[category]
            failed |= not ok
            print(f"  {label} {category}  {score}{'' if ok else f'  (target {TARGETS[category]})'}")
    return 1 if failed else 0


def _manager_cookie(url: str) -> str:
    browser = harness.Browser(url)
    harness.log_in(browser, "manager", "servicedesk-demo", totp_key=DEMO_KEY)
    page = browser.get("/dashboard/")
    if page.status != 200:
        raise RuntimeError(f"the manager could not open the dashboard ({page.status})")
    return "; ".join(f"{name}={value}" for name, value in browser.cookies.items())


def _median_scores(url: str, cookie: str, runs: int) -> dict[str, int]:
    results: dict[str, list[int]] = {category: [] for category in TARGETS}
    for _run in range(runs):
        for category, score in _lighthouse(url, cookie).items():
            results[category].append(score)
    return {category: sorted(values)[len(values) // 2] for category, values in results.items()}


def _lighthouse(url: str, cookie: str) -> dict[str, int]:
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "report.json"
        command = [
            "node",
            str(LIGHTHOUSE),
            url,
            f"--chrome-path={os.environ.get('CHROMIUM', '/usr/bin/chromium')}",
            "--chrome-flags=--headless=new --no-sandbox --disable-gpu",
            f"--only-categories={','.join(TARGETS)}",
            "--output=json",
            f"--output-path={report}",
            "--quiet",
        ]
        if cookie:
            command.append(f"--extra-headers={json.dumps({'Cookie': cookie})}")
        for attempt in range(1, ATTEMPTS + 1):
            # Lighthouse now and then loses its own trace (NO_NAVSTART); such a run has no score.
            if subprocess.run(command, timeout=300, cwd=ROOT).returncode == 0:
                break
            print(f"Lighthouse failed on {url} (attempt {attempt} of {ATTEMPTS})", file=sys.stderr)
        else:
            raise RuntimeError(f"Lighthouse failed {ATTEMPTS} times on {url}")
        data = json.loads(report.read_text())
    final = data.get("finalDisplayedUrl", url)
    if final.split("?")[0] != url.split("?")[0]:
        raise RuntimeError(f"Lighthouse was sent from {url} to {final}: not signed in?")
    return {category: round(data["categories"][category]["score"] * 100) for category in TARGETS}


if __name__ == "__main__":
    sys.exit(main())
