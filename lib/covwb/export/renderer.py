"""The headless browser that draws PNG, SVG and PDF exports: one service per process.

Kaleido drives a headless Chromium. One Kaleido instance lives on a private event-loop
thread, started on the first static export and reused (about 0.2 s an image, about 2 s
for the first), stopped at interpreter exit. Calls are serialised by a lock, since
Streamlit runs download callables on several threads. Every wait is bounded: if the
browser died or hangs, the renderer is restarted once, then :class:`ExportError` is
raised. ``kaleido.start_sync_server`` is not used: its caller waits without a timeout,
and it waits forever when the browser fails to start.

The browser is the one named by the environment variable ``BROWSER_PATH`` (the override
choreographer, Kaleido's browser driver, also honours before searching ``PATH``), else
the first of ``chromium``, ``chromium-browser``, ``google-chrome``,
``google-chrome-stable``, ``chrome`` on ``PATH``, else ``/usr/bin/chromium`` or
``/usr/bin/chromium-browser``. Choreographer would also look for a copy it downloaded
itself (``kaleido_get_chrome``); the workbench never downloads and passes the path it
found explicitly, so set ``BROWSER_PATH`` to use such a copy. Without a browser, static
exports raise :class:`ExportError` and :func:`static_export_available` is False; HTML and
CSV exports still work.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import os
import shutil
import signal
import threading
from collections.abc import Mapping
from typing import Any

from covwb.errors import ExportError

_BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
_BROWSER_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
_START_TIMEOUT_S = 60.0
_RENDER_TIMEOUT_S = 60.0
_STOP_TIMEOUT_S = 15.0


def find_browser() -> str | None:
    """Locate the Chromium or Chrome executable used for static exports.

    Returns
    -------
    str or None
        ``$BROWSER_PATH`` if set (None when it is not an executable file), else the
        first browser found on ``PATH`` or at the usual Debian paths, else None.
    """
    override = os.environ.get("BROWSER_PATH")
    if override:
        return override if _is_executable(override) else None
    for exe in _BROWSER_NAMES:
        found = shutil.which(exe)
        if found and _is_executable(found):
            return found
    return next((p for p in _BROWSER_PATHS if _is_executable(p)), None)


def static_export_available() -> bool:
    """Whether PNG, SVG and PDF exports can run here (a browser was found); starts nothing."""
    return find_browser() is not None


def stop_static_renderer() -> None:
    """Close the shared headless browser, if running; the next static export starts a new one."""
    _RENDERER.stop()


def _is_executable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def _no_browser_message() -> str:
    override = os.environ.get("BROWSER_PATH")
    where = (
        f"BROWSER_PATH={override!r} is not an executable file"
        if override
        else f"none of {', '.join(_BROWSER_NAMES)} is on PATH"
    )
    return (
        f"PNG/SVG/PDF export needs Chromium or Google Chrome, but {where}; install Chromium "
        "(apt-get install chromium) or set BROWSER_PATH to its executable. HTML export still works."
    )


def render_static(fig: Any, options: Mapping[str, Any]) -> bytes:
    """Draw a Plotly figure as PNG, SVG or PDF bytes with the shared browser (``options``: Kaleido's)."""
    browser = find_browser()
    if browser is None:
        raise ExportError(_no_browser_message())
    return _RENDERER.render(fig, dict(options), browser)


class _Renderer:
    """One Kaleido browser on a private event-loop thread, used under a lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._kaleido: Any = None
        self._browser: str | None = None
        self._exit_hook = False

    def render(self, fig: Any, options: dict[str, Any], browser: str) -> bytes:
        from kaleido.errors import KaleidoError

        fmt = options["format"].upper()
        with self._lock:
            failure: BaseException | None = None
            for _attempt in range(2):
                try:
                    self._start(browser)
                    return self._call(self._kaleido.calc_fig(fig, opts=options), _RENDER_TIMEOUT_S + 30)
                except KaleidoError as err:
                    message = f"Plotly.js could not draw this figure as {fmt} ({err}); check its data."
                    raise ExportError(message) from err
                except Exception as err:
                    failure = err
                    self._stop()
            raise ExportError(
                f"{fmt} export failed because the headless Chromium stopped or hung twice "
                f"({type(failure).__name__}: {str(failure)[:200]}); try again, or download the figure as HTML."
            ) from failure

    def stop(self) -> None:
        with self._lock:
            self._stop()

    def browser_pid(self) -> int | None:
        """Process id of the browser wrapper (its process group), or None when not running."""
        process = getattr(self._kaleido, "subprocess", None)
        return None if process is None else process.pid

    def _start(self, browser: str) -> None:
        process = getattr(self._kaleido, "subprocess", None)
        alive = process is not None and process.poll() is None and self._thread is not None and self._thread.is_alive()
        if alive and self._browser == browser:
            return
        self._stop()
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=_serve, args=(loop,), name="export-renderer", daemon=True)
        thread.start()
        self._loop, self._thread, self._browser = loop, thread, browser
        if not self._exit_hook:
            atexit.register(stop_static_renderer)
            self._exit_hook = True
        self._kaleido = self._call(_open_kaleido(browser), _START_TIMEOUT_S)

    def _call(self, coroutine: Any, timeout: float) -> Any:
        assert self._loop is not None
        future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        try:
            return future.result(timeout=timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise

    def _stop(self) -> None:
        loop, thread, kaleido = self._loop, self._thread, self._kaleido
        self._loop = self._thread = self._kaleido = self._browser = None
        if loop is None:
            return
        if kaleido is not None:
            try:
                asyncio.run_coroutine_threadsafe(kaleido.close(), loop).result(timeout=_STOP_TIMEOUT_S)
            except Exception:
                _kill_group(getattr(kaleido, "subprocess", None))
        loop.call_soon_threadsafe(loop.stop)
        if thread is not None:
            thread.join(timeout=_STOP_TIMEOUT_S)


async def _open_kaleido(browser: str) -> Any:
    import kaleido

    instance = kaleido.Kaleido(path=browser, mathjax=False, timeout=_RENDER_TIMEOUT_S)
    try:
        await instance.open()
    except BaseException:
        _kill_group(getattr(instance, "subprocess", None))
        raise
    return instance


def _serve(loop: asyncio.AbstractEventLoop) -> None:
    asyncio.set_event_loop(loop)
    try:
        loop.run_forever()
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.wait(pending, timeout=_STOP_TIMEOUT_S))
    finally:
        loop.close()


def _kill_group(process: Any) -> None:
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        process.kill()


_RENDERER = _Renderer()
