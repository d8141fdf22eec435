"""Screenshots of kg serve's pages for the README, taken in Debian's chromium (headless, through
selenium and the system's chromedriver) from a server started here on 127.0.0.1.

    kg build && python bench/screenshots.py

writes docs/screenshots/timeline.png (the pair TUR-PAK), entity.png (ishaq-dar) and event.png
(fidan-visit-pak-2025-07); --build, --seeds, --out and --page NAME=PATH change what is shot.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path

import uvicorn
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from kg.serve.app import Folders, create_app

PAGES = {"timeline": "/pair/TUR/PAK", "entity": "/entity/ishaq-dar",
         "event": "/event/fidan-visit-pak-2025-07"}
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--hide-scrollbars", "--force-device-scale-factor=1")
WIDTH = 1280


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve(build: Path, seeds: Path) -> tuple[uvicorn.Server, str]:
    """A server in a thread on a free loopback port, and its URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(build, Folders(seeds=seeds)),
                                           host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    return server, f"http://127.0.0.1:{port}"


def browser(profile: str) -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in (*FLAGS, f"--user-data-dir={profile}", f"--window-size={WIDTH},900"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)


def shoot(driver: webdriver.Chrome, url: str, path: Path, most: int) -> None:
    """The page, as tall as its content (at most `most` pixels)."""
    driver.set_window_size(WIDTH, 900)
    driver.get(url)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(WIDTH, min(int(height), most))
    driver.save_screenshot(str(path))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", type=Path, default=Path("build"))
    parser.add_argument("--seeds", type=Path, default=Path("seeds"))
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    parser.add_argument("--page", action="append", default=[], metavar="NAME=PATH")
    parser.add_argument("--height", type=int, default=1600, help="Tallest picture (pixels).")
    args = parser.parse_args()
    pages = dict(PAGES, **dict(p.split("=", 1) for p in args.page))
    args.out.mkdir(parents=True, exist_ok=True)
    server, url = serve(args.build, args.seeds)
    profile = tempfile.mkdtemp(prefix="kg-screenshots-")
    driver = browser(profile)
    try:
        for name, path in pages.items():
            target = args.out / f"{name}.png"
            shoot(driver, url + path, target, args.height)
            print(f"wrote {target.as_posix()}")
    finally:
        driver.quit()
        server.should_exit = True
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    main()
