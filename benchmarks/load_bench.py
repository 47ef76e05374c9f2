"""Load test: many people using the workbench at once, each in their own browser session.

Starts the app (``streamlit run app.py`` on 127.0.0.1, a free port, headless) and drives
``--sessions`` concurrent user sessions (default 10) for ``--minutes`` (default 10) from ONE
headless Debian Chromium with one isolated browser context per session (Playwright's async
API, one event loop). Each session loops through every page by the sidebar navigation:

1. home page;
2. dataset explorer: switch to uploads and upload a small table of its own (a distinct
   file per loop, whose file name and column names carry the session's token, and whose
   first column has a variance specific to the session and loop);
3. EEG augmented covariance (built-in recording, up to the "Run evaluation" button);
4. SPD batch normalisation (default geometry panels);
5. compositional partial correlations: upload a small composition of its own;
6. distance-covariance fairness (built-in table, its λ sweep).

Every ``--renew-every`` loops a session closes its context and opens a new one (a new
visitor; the server keeps the old session for ``server.disconnectedSessionTTL``).

Measured: the latency of every interaction (the action, to the expected element visible
and the script finished; a page that ends in an error message also ends the wait, and the
message is counted as a problem), p50/p95 per step and overall; the server's resident memory
(psutil if installed, else ``/proc``) every two seconds, its peak, and whether it levelled
off (slope of a least-squares line over the last half of the run against the first
minutes); and isolation: after each upload the whole page (DOM and every Plotly figure's
data) is searched for any other session's token, and the covariance shown must be the
session's own (the variance of its first column). Every wait has a timeout; a step that
times out is counted and the session reloads and goes on. Counts are bounded by
``--max-loops`` per session.

Run: ``flock /tmp/bench.lock python benchmarks/load_bench.py [--minutes 10] [--sessions 10]``.
Ends with ``target load_p95_s = X`` and ``target load_peak_rss_mb = X``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TOKEN = re.compile(r"sess(\d{2})x")
PAGES = {
    "home": ("app", "Covariance Workbench"),
    "explorer": ("Dataset explorer", "Dataset explorer"),
    "acm": ("EEG augmented covariance", "EEG classification with augmented covariance matrices"),
    "spd": ("SPD batch norm", "SPD batch normalisation"),
    "coda": ("Compositional partial correlations", "Compositional partial correlations"),
    "fairness": ("Distance covariance fairness", "Distance-covariance fairness"),
}

READY_JS = """
(a) => {
  const live = (el) => !el.closest('[data-stale="true"]');
  if (document.querySelector('[data-testid="stStatusWidget"]')) return false;
  const titles = [...document.querySelectorAll('h1')].filter(live);
  if (!titles.some((e) => e.innerText.includes(a.title))) return false;
  const problems = '[data-testid="stException"], [data-testid="stAlertContentError"]';
  if ([...document.querySelectorAll(problems)].some(live)) return true;
  const charts = [...document.querySelectorAll('[data-testid="stPlotlyChart"] .js-plotly-plot')].filter(live);
  if (charts.length < a.minCharts) return false;
  const main = document.querySelector('[data-testid="stMain"]');
  if (a.text && !(main && main.innerText.includes(a.text))) return false;
  if (a.selector && ![...document.querySelectorAll(a.selector)].some(live)) return false;
  return true;
}
"""

PROBLEMS_JS = """
() => [...document.querySelectorAll('[data-testid="stException"], [data-testid="stAlertContentError"]')]
  .filter((el) => !el.closest('[data-stale="true"]')).map((el) => el.innerText.slice(0, 200))
"""

FIGURES_JS = """
() => [...document.querySelectorAll('[data-testid="stPlotlyChart"] .js-plotly-plot')].map((gd) => {
  const title = gd.layout && gd.layout.title ? (gd.layout.title.text || gd.layout.title) : '';
  let z = null;
  const trace = gd._fullData && gd._fullData[0];
  if (trace && trace.z && trace.z[0] !== undefined) z = Number(trace.z[0][0]);
  let text = '';
  try { text = JSON.stringify({d: gd.data, l: gd.layout}); } catch (e) { text = ''; }
  return {title: String(title), z00: z, text: text};
})
"""


# --------------------------------------------------------------------------- server and memory


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(port: int, log_path: Path) -> subprocess.Popen:
    """The app on 127.0.0.1:port, headless, one BLAS thread; waits until healthy (90 s at most)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    log = log_path.open("wb")
    process = subprocess.Popen(
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
            "--server.headless",
            "true",
        ],
        cwd=REPO,
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return process
        except OSError:
            time.sleep(0.3)
        if process.poll() is not None:
            break
    process.kill()
    raise SystemExit(f"the Streamlit server did not come up; see {log_path}")


def rss_mb(pid: int) -> float:
    """Resident memory of one process in MiB (psutil when installed, else /proc)."""
    try:
        import psutil

        return psutil.Process(pid).memory_info().rss / 2**20
    except ImportError:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    return float("nan")


class MemorySampler(threading.Thread):
    """Samples the server's RSS every ``every_s`` seconds until stopped."""

    def __init__(self, pid: int, every_s: float = 2.0) -> None:
        super().__init__(daemon=True)
        self.pid, self.every_s = pid, every_s
        self.samples: list[tuple[float, float]] = []
        self._done = threading.Event()
        self.started = time.monotonic()

    def run(self) -> None:
        while not self._done.is_set():
            try:
                self.samples.append((time.monotonic() - self.started, rss_mb(self.pid)))
            except (OSError, ValueError):
                return
            self._done.wait(self.every_s)

    def stop(self) -> None:
        self._done.set()
        self.join(timeout=10)


def slope_mb_per_min(samples: list[tuple[float, float]]) -> float:
    """Least-squares slope of RSS against time, MiB per minute."""
    if len(samples) < 3:
        return float("nan")
    t, m = np.array(samples).T
    return float(np.polyfit(t / 60.0, m, 1)[0])


# --------------------------------------------------------------------------- inputs


def session_table(folder: Path, session: int, loop: int, rows: int = 60) -> tuple[Path, float]:
    """A CSV for the explorer: columns named with the session token; column 0 has a known variance."""
    variance = 1000.0 * (session + 1) + loop
    rng = np.random.default_rng(1000 * session + loop)
    values = rng.normal(size=(rows, 4))
    first = values[:, 0] - values[:, 0].mean()
    values[:, 0] = first / first.std(ddof=1) * np.sqrt(variance)
    token = f"sess{session:02d}x"
    header = ",".join(f"{token}{name}" for name in ("alpha", "beta", "gamma", "delta"))
    lines = [header] + [",".join(repr(float(v)) for v in row) for row in values]
    path = folder / f"{token}_loop{loop:03d}.csv"
    path.write_text("\n".join(lines) + "\n")
    return path, variance


def session_composition(folder: Path, session: int, loop: int, rows: int = 30) -> Path:
    """A small composition (positive parts) whose part names carry the session token."""
    rng = np.random.default_rng(5000 + 1000 * session + loop)
    parts = rng.dirichlet(np.ones(5) * 3, size=rows) * 100
    token = f"sess{session:02d}x"
    header = ",".join(f"{token}part{k}" for k in range(5))
    lines = [header] + [",".join(f"{v:.5f}" for v in row) for row in parts]
    path = folder / f"{token}_parts{loop:03d}.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


# --------------------------------------------------------------------------- one session


@dataclass
class Results:
    """What all sessions measured."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    timeouts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    problems: list[str] = field(default_factory=list)
    leaks: list[str] = field(default_factory=list)
    wrong_values: list[str] = field(default_factory=list)
    loops: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    uploads: int = 0
    isolation_checks: int = 0


class Session:
    """One visitor: a browser context that loops through the pages."""

    def __init__(self, index: int, browser, url: str, folder: Path, results: Results, args) -> None:
        self.index, self.browser, self.url, self.folder = index, browser, url, folder
        self.results, self.args = results, args
        self.context = self.page = None
        self.timeout_ms = int(args.step_timeout * 1000)

    async def open(self) -> None:
        if self.context is not None:
            await self.context.close()
        self.context = await self.browser.new_context(viewport={"width": 1400, "height": 1000})
        self.page = await self.context.new_page()
        self.page.set_default_timeout(self.timeout_ms)
        started = time.perf_counter()
        await self.page.goto(self.url, timeout=self.timeout_ms)
        await self.ready("Covariance Workbench", selector='[data-testid="stSidebarNav"]')
        self.record("open", started)

    async def ready(
        self, title: str, *, min_charts: int = 0, text: str | None = None, selector: str | None = None
    ) -> None:
        await self.page.wait_for_function(
            READY_JS,
            arg={"title": title, "minCharts": min_charts, "text": text, "selector": selector},
            timeout=self.timeout_ms,
            polling=200,
        )

    def record(self, step: str, started: float) -> None:
        self.results.latencies[step].append(time.perf_counter() - started)

    async def problems(self, step: str) -> None:
        for text in await self.page.evaluate(PROBLEMS_JS):
            self.results.problems.append(f"session {self.index} {step}: {text}")

    async def go(self, page_key: str, **expect) -> None:
        """Click the page's link in the sidebar navigation and wait for it to finish."""
        link, title = PAGES[page_key]
        nav = self.page.locator('[data-testid="stSidebarNav"]')
        started = time.perf_counter()
        await nav.get_by_text(link, exact=True).first.click(timeout=self.timeout_ms)
        await self.ready(title, **expect)
        self.record(page_key, started)
        await self.problems(page_key)

    async def upload(self, step: str, title: str, path: Path, min_charts: int) -> None:
        """Switch the sidebar to uploads, upload ``path`` and wait for its name and charts."""
        sidebar = self.page.locator('[data-testid="stSidebar"]')
        file_input = sidebar.locator('input[type="file"]')
        if not await file_input.count():
            started = time.perf_counter()
            await sidebar.get_by_text("Upload", exact=True).first.click(timeout=self.timeout_ms)
            await file_input.first.wait_for(state="attached", timeout=self.timeout_ms)
            await self.ready(title)
            self.record("switch to upload", started)
        started = time.perf_counter()
        await file_input.first.set_input_files(str(path), timeout=self.timeout_ms)
        await self.ready(title, min_charts=min_charts, text=path.name)
        self.record(step, started)
        self.results.uploads += 1
        await self.problems(step)

    async def check_isolation(self, step: str, variance: float | None) -> None:
        """No other session's token anywhere on the page or in its figures; our own covariance shown."""
        content = await self.page.content()
        figures = await self.page.evaluate(FIGURES_JS)
        found = {int(m) for m in TOKEN.findall(content)}
        for figure in figures:
            found |= {int(m) for m in TOKEN.findall(figure["text"])}
        others = sorted(found - {self.index})
        if others:
            self.results.leaks.append(f"session {self.index} {step}: saw tokens of sessions {others}")
        if self.index not in found:
            self.results.problems.append(f"session {self.index} {step}: its own data were not on the page")
        if variance is not None:
            titles = [(re.sub(r"<[^>]+>", "", f["title"]), f["z00"]) for f in figures]
            shown = [z for title, z in titles if title.startswith("Covariance") and z is not None]
            if not shown or not np.isclose(shown[0], variance, rtol=1e-6):
                self.results.wrong_values.append(f"session {self.index} {step}: covariance[0,0] {shown} != {variance}")
        self.results.isolation_checks += 1

    async def loop_once(self, loop: int) -> None:
        await self.go("home", text="Built-in datasets")
        await self.go("explorer", min_charts=1)
        table, variance = session_table(self.folder, self.index, loop)
        await self.upload("explorer upload", "Dataset explorer", table, min_charts=3)
        await self.check_isolation("explorer upload", variance)
        await self.go("acm", selector='[data-testid="stButton"] button')
        await self.go("spd", min_charts=1)
        await self.go("coda", min_charts=1)
        await self.upload(
            "composition upload",
            "Compositional partial correlations",
            session_composition(self.folder, self.index, loop),
            min_charts=1,
        )
        await self.check_isolation("composition upload", None)
        await self.go("fairness", min_charts=1)

    async def run(self, deadline: float) -> None:
        loop = 0
        await asyncio.sleep(self.index * self.args.stagger)
        while time.monotonic() < deadline and loop < self.args.max_loops:
            try:
                if self.page is None or (loop and loop % self.args.renew_every == 0):
                    await self.open()
                await asyncio.wait_for(self.loop_once(loop), timeout=max(1.0, deadline - time.monotonic()) + 60)
                self.results.loops[self.index] += 1
            except Exception as error:
                if time.monotonic() >= deadline:
                    break
                kind = type(error).__name__
                self.results.timeouts[kind] += 1
                self.results.problems.append(f"session {self.index} loop {loop}: {kind}: {str(error)[:160]}")
                try:
                    await self.open()
                except Exception as again:
                    self.results.problems.append(f"session {self.index} reopen: {type(again).__name__}")
                    self.page = None
            loop += 1
        if self.context is not None:
            await self.context.close()


# --------------------------------------------------------------------------- the run


async def drive(url: str, args, folder: Path) -> Results:
    from playwright.async_api import async_playwright

    results = Results()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            deadline = time.monotonic() + args.minutes * 60
            sessions = [Session(i, browser, url, folder, results, args) for i in range(args.sessions)]
            await asyncio.gather(*(s.run(deadline) for s in sessions))
        finally:
            await browser.close()
    return results


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def report(results: Results, sampler: MemorySampler, args, elapsed_s: float) -> None:
    everything = [v for values in results.latencies.values() for v in values]
    print(
        f"Covariance Workbench under load: {args.sessions} sessions, one headless Chromium, "
        f"{elapsed_s / 60:.1f} min, one BLAS thread per process, {os.cpu_count()} CPUs"
    )
    print(f"{'step':24s} {'n':>5s} {'p50_s':>7s} {'p95_s':>7s} {'max_s':>7s}")
    for step, values in sorted(results.latencies.items()):
        print(
            f"{step:24s} {len(values):5d} {percentile(values, 50):7.2f} {percentile(values, 95):7.2f} "
            f"{max(values):7.2f}"
        )
    print(
        f"{'all interactions':24s} {len(everything):5d} {percentile(everything, 50):7.2f} "
        f"{percentile(everything, 95):7.2f} {max(everything, default=float('nan')):7.2f}"
    )
    print(
        f"loops per session: {dict(sorted(results.loops.items()))}; uploads {results.uploads}; "
        f"failed steps {dict(results.timeouts)}"
    )
    samples = sampler.samples
    peak = max((m for _, m in samples), default=float("nan"))
    half = samples[len(samples) // 2 :]
    early = [s for s in samples if s[0] <= min(120.0, samples[-1][0] / 2)] if samples else []
    late_slope, early_slope = slope_mb_per_min(half), slope_mb_per_min(early)
    minutes = sorted({int(t // 60) for t, _ in samples})
    per_minute = [max(m for t, m in samples if int(t // 60) == k) for k in minutes]
    print("server RSS, MiB, peak per minute: " + " ".join(f"{m:.0f}" for m in per_minute))
    levelled = bool(np.isfinite(late_slope) and late_slope <= max(5.0, 0.01 * peak))
    print(
        f"RSS slope: first minutes {early_slope:+.1f} MiB/min, last half {late_slope:+.1f} MiB/min; "
        f"levelled off: {'yes' if levelled else 'NO'}"
    )
    print(
        f"isolation: {results.isolation_checks} checks, {len(results.leaks)} leaks, "
        f"{len(results.wrong_values)} wrong covariances"
    )
    for line in (results.leaks + results.wrong_values)[:20]:
        print(f"  LEAK {line}")
    print(f"problems on pages (errors shown, failed waits): {len(results.problems)}")
    for line in results.problems[:20]:
        print(f"  {line}")
    print(f"measure load_p50_s = {percentile(everything, 50):.2f}")
    print(f"measure load_rss_slope_last_half_mb_per_min = {late_slope:.2f}")
    print(f"target load_p95_s = {percentile(everything, 95):.2f}")
    print(f"target load_peak_rss_mb = {peak:.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="how long the sessions run")
    parser.add_argument("--sessions", type=int, default=10, help="concurrent browser contexts")
    parser.add_argument("--max-loops", type=int, default=200, help="loops through the pages per session, at most")
    parser.add_argument("--renew-every", type=int, default=4, help="loops before a session becomes a new visitor")
    parser.add_argument("--step-timeout", type=float, default=180.0, help="seconds any one wait may take")
    parser.add_argument("--stagger", type=float, default=2.0, help="seconds between session starts")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} is missing: apt-get install chromium")
    with tempfile.TemporaryDirectory(prefix="load-bench-") as tmp:
        folder = Path(tmp)
        port = free_port()
        server = start_server(port, folder / "server.log")
        sampler = MemorySampler(server.pid)
        sampler.start()
        started = time.monotonic()
        try:
            results = asyncio.run(drive(f"http://127.0.0.1:{port}", args, folder))
        finally:
            elapsed = time.monotonic() - started
            sampler.stop()
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
        log = (folder / "server.log").read_text(errors="replace")
        tracebacks = log.count("Traceback")
        report(results, sampler, args, elapsed)
        print(f"server log: {tracebacks} tracebacks")
        if tracebacks:
            print(log[log.index("Traceback") :][:1500])


if __name__ == "__main__":
    main()
