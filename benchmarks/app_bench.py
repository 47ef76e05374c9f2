"""Start-up and export timings of the app, as a visitor meets them.

Starts the Streamlit server on 127.0.0.1, times (1) process start to a healthy server,
(2) a healthy server to the home page rendered in headless Debian Chromium, then times
PNG exports through :mod:`covwb.export` (the first one starts the renderer; the rest are
the warm median of several repeats). Run: ``python benchmarks/app_bench.py``.
"""

from __future__ import annotations

import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

from covwb.runtime import limit_threads

limit_threads()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def home_page_timings() -> tuple[float, float]:
    """Seconds from process start to healthy server, and from healthy server to the rendered home page.

    The browser is started before the server, so its own start-up is not counted; its profile is
    fresh, so Streamlit's JavaScript bundle is loaded cold, as for a first visitor.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page()
        port = _free_port()
        started = time.perf_counter()
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                "app.py",
                "--server.address",
                "127.0.0.1",
                "--server.port",
                str(port),
            ],
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            while True:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1)
                    break
                except OSError:
                    time.sleep(0.05)
            healthy = time.perf_counter()
            page.goto(f"http://127.0.0.1:{port}/")
            page.get_by_text("Simulated motor-imagery EEG").first.wait_for(timeout=60_000)
            rendered = time.perf_counter()
        finally:
            server.terminate()
            server.wait(timeout=20)
            browser.close()
    return healthy - started, rendered - healthy


def png_export_timings(repeats: int = 7) -> tuple[float, float]:
    """Seconds for the first PNG export (renderer start included) and the warm median."""
    import numpy as np

    from covwb.export import export_figure, stop_static_renderer
    from covwb.plots.matrices import matrix_heatmap

    matrix = np.corrcoef(np.random.default_rng(0).standard_normal((22, 200)))
    fig = matrix_heatmap(matrix, [f"ch{i}" for i in range(22)], title="Correlation")
    settings = {"benchmark": "png export", "size": "22 x 22"}
    started = time.perf_counter()
    export_figure(fig, "png", name="bench", settings=settings)
    first = time.perf_counter() - started
    warm = []
    for _ in range(repeats):
        started = time.perf_counter()
        export_figure(fig, "png", name="bench", settings=settings)
        warm.append(time.perf_counter() - started)
    stop_static_renderer()
    return first, statistics.median(warm)


if __name__ == "__main__":
    server_s, home_s = home_page_timings()
    first_png, warm_png = png_export_timings()
    print("Covariance Workbench start-up and export (one BLAS thread, headless Debian Chromium)")
    print(f"measure server_start_s = {server_s:.2f}")
    print(f"measure home_page_render_s = {home_s:.2f}")
    print(f"measure png_export_first_s = {first_png:.2f}")
    print(f"measure png_export_warm_s = {warm_png:.3f}")
