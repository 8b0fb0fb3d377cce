"""Helpers for `tests/test_browser.py`: a real browser (Debian's Chromium driven by Playwright), a JupyterLab server and
a static file server on localhost, and a guard that records every request leaving localhost.

Nothing here downloads: Playwright drives the system binary at `CHROMIUM` (never `playwright install`).
"""
import contextlib, hashlib, json, os, socket, subprocess, sys, threading, time, urllib.request
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

CHROMIUM = os.environ.get('VIDLAB_CHROMIUM', '/usr/bin/chromium')  # Debian's package; CI installs it (.ci/run)
REQUIRED = os.environ.get('VIDLAB_BROWSER_TESTS', '') == 'required'  # CI: a missing browser fails, never skips
LOCAL_HOSTS = {'127.0.0.1', 'localhost', '[::1]', '::1'}
LOCAL_SCHEMES = {'data', 'blob', 'about', 'file', 'chrome-extension', 'devtools'}  # never leave the machine
SHOTS = Path(os.environ.get('VIDLAB_SCREENSHOTS', Path(__file__).resolve().parent.parent / 'browser-screenshots'))


def skip_or_fail(reason: str):
    "Skip with `reason`, or fail when the browser tests are required (`VIDLAB_BROWSER_TESTS=required`, as in CI)."
    if REQUIRED: pytest.fail(f'{reason} (VIDLAB_BROWSER_TESTS=required: browser tests may not skip here)', pytrace=False)
    pytest.skip(reason)


def sync_playwright():
    "Playwright's sync entry point, or a skip (a failure in CI) saying what is missing."
    try: from playwright.sync_api import sync_playwright as sp
    except ImportError: skip_or_fail('playwright is not installed: `pip install playwright` (never `playwright install`)')
    if not Path(CHROMIUM).exists(): skip_or_fail(f'no Chromium at {CHROMIUM}: `apt-get install -y chromium`')
    return sp


def launch(pw):
    "Headless Chromium from Debian's package, sandbox off (CI runs as root)."
    return pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                              args=['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'])


def is_local(url: str) -> bool:
    "True for a URL that stays on this machine: localhost over http(s)/ws, or a data:/blob:/about: URL."
    u = urlsplit(url)
    if u.scheme in LOCAL_SCHEMES: return True
    return u.scheme in ('http', 'https', 'ws', 'wss') and u.hostname in LOCAL_HOSTS


class PageWatch:
    "Records what a page does wrong: requests off localhost (aborted), console errors, uncaught exceptions, HTTP errors."
    def __init__(self, page, ignore_console=()):
        self.page, self.external, self.console, self.errors, self.failed = page, [], [], [], []
        self.ignore_console = tuple(ignore_console)
        page.route('**/*', self._route)
        page.on('request', lambda r: None if is_local(r.url) else self.external.append(r.url))
        page.on('websocket', lambda ws: None if is_local(ws.url) else self.external.append(ws.url))
        page.on('console', self._console)
        page.on('pageerror', lambda e: self.errors.append(str(e)))
        page.on('response', lambda r: self.failed.append(f'{r.status} {r.url}') if r.status >= 400 else None)

    def _route(self, route):
        if is_local(route.request.url): route.continue_()
        else: route.abort()  # never let a test reach the network, even where one exists

    def _console(self, msg):
        if msg.type == 'error' and not any(s in msg.text for s in self.ignore_console):
            self.console.append(f'{msg.text} ({msg.location.get("url", "")})')

    def assert_offline(self):
        assert not self.external, f'requests to non-local URLs: {sorted(set(self.external))}'


def free_port() -> int:
    "A TCP port nobody listens on now."
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float, proc=None, log=None):
    "Poll `url` until it answers 200; fail with the server's log if it exits or the time runs out."
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f'server exited with {proc.returncode}:\n{log.read_text()[-3000:] if log else ""}')
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200: return
        except OSError: pass
        time.sleep(0.2)
    raise TimeoutError(f'{url} did not answer within {timeout:.0f} s:\n{log.read_text()[-3000:] if log else ""}')


LAB_SETTINGS = {'@jupyterlab/apputils-extension/notification': {'fetchNews': 'false', 'checkForUpdates': False},
                '@jupyterlab/notebook-extension/tracker': {'windowingMode': 'none'}}  # every cell in the DOM


@contextlib.contextmanager
def jupyterlab(root: Path, timeout: float = 90):
    "A JupyterLab server on a free localhost port serving `root`, its kernel this env's Python; yields (base_url, token)."
    port, token = free_port(), hashlib.sha256(os.urandom(16)).hexdigest()[:32]
    home = root.parent / f'.jupyter-{port}'  # config, data, runtime, settings, workspaces: all fresh, all thrown away
    for d in ('config', 'data', 'runtime', 'settings', 'workspaces'): (home / d).mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(home / 'config'), JUPYTER_RUNTIME_DIR=str(home / 'runtime'),
               JUPYTER_DATA_DIR=str(home / 'data'), PYTHONUNBUFFERED='1',
               PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get('PATH', '')]),  # kernel = this env
               OMP_WAIT_POLICY='PASSIVE', OMP_NUM_THREADS=os.environ.get('OMP_NUM_THREADS', '1'))
    cmd = [sys.executable, '-m', 'jupyterlab', '--no-browser', f'--port={port}', '--ip=127.0.0.1',
           '--ServerApp.port_retries=0', f'--IdentityProvider.token={token}', f'--ServerApp.root_dir={root}',
           '--ServerApp.disable_check_xsrf=True', '--LabApp.expose_app_in_browser=True',  # window.jupyterapp for commands
           '--LabApp.news_url=None', '--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate',  # no fetches
           f'--LabApp.user_settings_dir={home / "settings"}', f'--LabApp.workspaces_dir={home / "workspaces"}',
           '--LabApp.extension_manager=readonly',  # the default asks PyPI for extensions
           '--ServerApp.terminals_enabled=False', '--allow-root']  # CI runs as root
    for plugin, values in LAB_SETTINGS.items():  # no news toast over the page, no update checks
        f = home / 'settings' / f'{plugin}.jupyterlab-settings'
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(json.dumps(values))
    log = home / 'server.log'
    with open(log, 'w') as out:
        proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f'http://127.0.0.1:{port}'
    try:
        wait_http(f'{base}/api/status?token={token}', timeout, proc, log)
        yield base, token
    finally:
        proc.terminate()
        try: proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def shutdown_kernels(base: str, token: str):
    "Shut down every session (and its kernel) of a Jupyter server."
    def call(method, path):
        req = urllib.request.Request(f'{base}{path}', method=method, headers={'Authorization': f'token {token}'})
        with urllib.request.urlopen(req, timeout=30) as r: return json.loads(r.read() or b'null')
    for s in call('GET', '/api/sessions') or []: call('DELETE', f'/api/sessions/{s["id"]}')


@contextlib.contextmanager
def static_server(root: Path):
    "Serve `root` over http on a free localhost port, quietly; yields the base URL."
    handler = partial(type('Quiet', (SimpleHTTPRequestHandler,), {'log_message': lambda *a: None}), directory=str(root))
    quiet_server = type('QuietServer', (ThreadingHTTPServer,), {  # a browser that drops a connection is not an error
        'handle_error': lambda self, request, address: None})
    httpd = quiet_server(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try: yield f'http://127.0.0.1:{httpd.server_address[1]}'
    finally:
        httpd.shutdown()
        httpd.server_close()


def notebook(cells: list[str]) -> dict:
    "A minimal nbformat 4 notebook of code cells on the python3 kernel."
    return {'nbformat': 4, 'nbformat_minor': 5, 'cells': [
                {'cell_type': 'code', 'id': f'c{i}', 'metadata': {}, 'execution_count': None, 'outputs': [],
                 'source': src} for i, src in enumerate(cells)],
            'metadata': {'kernelspec': {'name': 'python3', 'display_name': 'Python 3 (ipykernel)', 'language': 'python'},
                         'language_info': {'name': 'python'}}}


def write_notebook(path: Path, cells: list[str]) -> Path:
    path.write_text(json.dumps(notebook(cells), indent=1))
    return path


def img_digest(locator) -> str:
    "sha256 of the bytes an <img> shows (its src fetched in the page: blob:, data: or http)."
    return locator.evaluate("""async img => {
        const buf = await (await fetch(img.src)).arrayBuffer();
        const h = await crypto.subtle.digest('SHA-256', buf);
        return Array.from(new Uint8Array(h)).map(b => b.toString(16).padStart(2, '0')).join('');
    }""")
