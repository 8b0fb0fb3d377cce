"""The learner's path, in a real browser: headless Chromium (Debian's package) driven by Playwright.

(a) JupyterLab on localhost: the demo lesson opens with its stored pictures; its denoising demo runs in a kernel,
    **generate** and the **step** slider change the picture; lesson 7's `ScheduleExplorer` responds the same way.
(b) The course site (`python tools/site.py --out DIR`) served on localhost: every page loads (200) with no console
    error, no broken image, no dead relative link; the static denoising scrubber changes its picture when its slider
    moves; the search box finds things.
No request may leave localhost (each page aborts and records any that tries). Screenshots for a person to look at go
to `browser-screenshots/` at the repo root (`VIDLAB_SCREENSHOTS` overrides); their paths are printed.

Locally the tests skip when Chromium or Playwright is missing; with `VIDLAB_BROWSER_TESTS=required` (as `.ci/run`
sets) they fail instead. `VIDLAB_SITE=DIR` tests a site already built into DIR instead of building one.
"""
import json, os, re, shutil, subprocess, sys, time
from pathlib import Path
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import browser_helpers as bh

ROOT = Path(__file__).resolve().parent.parent
NBS = ROOT / 'nbs'
LESSONS = sorted(NBS.glob('[0-9][0-9]_*.ipynb'))
WAIT_MS = 180_000  # a kernel step under a loaded 2-core CI machine: generous, but every wait is on a condition
EXPORT = re.compile(r'^\s*#\|\s*export', re.MULTILINE)

pytestmark = pytest.mark.filterwarnings('ignore::DeprecationWarning')


# ---------------------------------------------------------------- the browser
@pytest.fixture(scope='module')
def browser():
    sp = bh.sync_playwright()  # skips (fails when required) without playwright or chromium
    with sp() as pw:
        b = bh.launch(pw)
        yield b
        b.close()


def new_context(browser):
    ctx = browser.new_context(viewport={'width': 1280, 'height': 900})
    ctx.set_default_timeout(WAIT_MS)
    return ctx


def watched_page(ctx):
    "A page whose requests are watched: none may leave localhost."
    p = ctx.new_page()
    p.watch = bh.PageWatch(p)
    return p


@pytest.fixture
def page(browser):
    "A fresh page (1280x900) in a fresh context."
    ctx = new_context(browser)
    yield watched_page(ctx)
    ctx.close()


@pytest.fixture(scope='module')
def lab_page(browser):
    "One JupyterLab page for the JupyterLab tests: it loads JupyterLab once; each test opens its notebook in it."
    ctx = new_context(browser)
    yield watched_page(ctx)
    ctx.close()


def shot(target, name: str) -> Path:
    "Save a screenshot of a page or element as browser-screenshots/<name> and print where it is."
    bh.SHOTS.mkdir(parents=True, exist_ok=True)
    path = bh.SHOTS / name
    target.screenshot(path=str(path))
    print(f'screenshot: {path}')
    return path


def expect():
    "Playwright's `expect`, waiting as long as every other wait here (its own default is 5 s)."
    from playwright.sync_api import expect as e
    e.set_options(timeout=WAIT_MS)
    return e


# ---------------------------------------------------------------- (a) JupyterLab
def lesson_cell(path: Path, pattern: str) -> str:
    "The source of the last code cell of a lesson that matches `pattern` and is not exported: how the lesson shows it."
    cells = [c for c in json.loads(path.read_text())['cells'] if c['cell_type'] == 'code']
    src = [''.join(c['source']) for c in cells]
    found = [s for s in src if re.search(pattern, s) and not EXPORT.search(s)]
    assert found, f'{path.name} has no code cell matching {pattern!r} that shows the widget'
    return found[-1]


CLOSE_ALL = """() => { if (!window.jupyterapp) return;
  for (const w of Array.from(window.jupyterapp.shell.widgets('main'))) {
    if (w.context && w.context.model) w.context.model.dirty = false;  // no 'save changes?' dialog
    w.dispose(); } }"""


@pytest.fixture
def lab(lab_server, lab_page):
    "The JupyterLab server; after each test its notebooks are closed and every kernel shut down (the CPU is shared)."
    yield lab_server
    try: lab_page.evaluate(CLOSE_ALL)
    except Exception: pass  # a page that broke: the next test reloads it
    bh.shutdown_kernels(*lab_server[:2])


@pytest.fixture(scope='module')
def lab_server(tmp_path_factory):
    "JupyterLab on localhost over a throw-away copy of nbs/; yields (base_url, token, root)."
    bh.sync_playwright()  # skip (or fail) before paying for a server the browser cannot use
    root = tmp_path_factory.mktemp('lab') / 'nbs'
    shutil.copytree(NBS, root, ignore=shutil.ignore_patterns('.ipynb_checkpoints', '_*'))
    t0 = time.perf_counter()
    with bh.jupyterlab(root) as (base, token):
        print(f'JupyterLab up in {time.perf_counter() - t0:.1f} s')
        yield base, token, root


READY = """name => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const k = w && w.context && w.context.path === name && w.sessionContext && w.sessionContext.session
            && w.sessionContext.session.kernel;
  return !!(k && k.status === 'idle' && w.content && w.content.widgets && w.content.widgets.length > 0); }"""


def open_notebook(page, lab, name: str):
    "Open nbs/<name> in JupyterLab (File > Open; the first time, by its URL) and wait until its kernel is idle."
    base, token, _ = lab
    loaded = page.url.startswith(base) and page.evaluate('() => !!(window.jupyterapp && window.jupyterapp.shell)')
    if loaded: page.evaluate("name => { window.jupyterapp.commands.execute('docmanager:open', {path: name}); }", name)
    else: page.goto(f'{base}/lab/tree/{name}?reset&token={token}')  # reset: no tabs restored from an earlier run
    page.wait_for_function(READY, arg=name, polling=250)


def run_all(page, lab, name: str, widget: str):
    "Run every cell of the open notebook (Run > Run All Cells) and wait for `widget` (CSS) in an output, or an error."
    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")  # do not await: it ends late
    sel = f'.jp-OutputArea-output {widget}'
    try: page.wait_for_function("""sel => document.querySelector(sel) ||
        Array.from(document.querySelectorAll('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'))
             .some(e => e.textContent.includes('Traceback'))""", arg=sel, polling=250)  # the widget, or a cell's error
    except Exception: pass
    if page.locator(sel).count() == 0:
        outputs = page.locator('.jp-OutputArea').all_inner_texts()
        pytest.fail(f'{name}: {widget} never appeared after Run All; the outputs:\n' + '\n'.join(outputs)[-4000:], pytrace=False)
    page.locator(sel).first.wait_for(state='visible')


def slider(scope, label: str):
    "The ipywidgets slider inside `scope` (a locator) whose description is exactly `label`."
    name = scope.page.locator('label.widget-label', has_text=re.compile(f'^{re.escape(label)}$'))
    return scope.locator('.widget-hslider').filter(has=name)


def drag_to(page, sl, fraction: float):
    "Click a noUiSlider track at `fraction` of its width, as a hand with a mouse does (tap moves the handle there)."
    box = sl.locator('.noUi-base').bounding_box()
    page.mouse.click(box['x'] + fraction * box['width'], box['y'] + box['height'] / 2)


def test_lab_course_map_pictures_load(lab_page, lab):
    "`jupyter lab nbs/`, then index.ipynb: the course map's pictures load in JupyterLab (its markdown and outputs)."
    open_notebook(lab_page, lab, 'index.ipynb')
    expect()(lab_page.locator('.jp-MarkdownOutput h1').first).to_be_visible()
    imgs = lab_page.locator('.jp-Notebook img')
    assert imgs.count() > 0, 'index.ipynb shows no picture in JupyterLab'
    try: lab_page.wait_for_function("""() => Array.from(document.querySelectorAll('.jp-Notebook img'))
                                       .every(i => i.complete && i.naturalWidth > 0)""", timeout=30_000)
    except Exception: pass  # JupyterLab resolves markdown image paths after rendering; the check below names what broke
    imgs.first.scroll_into_view_if_needed()
    broken = check_images(lab_page)
    assert not broken, f'index.ipynb: pictures that do not load in JupyterLab: {broken}'
    shot(lab_page, 'course_map_jupyterlab.png')
    lab_page.watch.assert_offline()


def test_lab_demo_lesson_opens_with_its_pictures(lab_page, lab):
    "A learner who opens the demo lesson sees the denoising demo's stored picture before running anything."
    open_notebook(lab_page, lab, '13_demo.ipynb')
    heading = lab_page.locator('.jp-MarkdownOutput h2', has_text='The demo')
    heading.scroll_into_view_if_needed()
    expect()(heading).to_be_visible()
    src = lesson_cell(NBS / '13_demo.ipynb', r'(?m)^demo = DenoisingDemo\(')
    cell = lab_page.locator('.jp-CodeCell').filter(has=lab_page.locator('.jp-InputArea', has_text=src.strip().splitlines()[0]))
    expect()(cell).to_have_count(1)
    cell.scroll_into_view_if_needed()
    shot(lab_page, 'lesson_jupyterlab.png')
    out = cell.locator('.jp-OutputArea')
    assert 'VBox(' not in out.inner_text(), 'the stored demo output is a widget repr, not a picture of its state'
    imgs = out.locator('img')
    assert imgs.count() > 0, '13_demo.ipynb stores no picture for the denoising demo (run the lesson, keep outputs)'
    expect()(imgs.first).to_be_visible()
    assert imgs.first.evaluate('img => img.complete && img.naturalWidth > 0'), 'the stored demo picture does not load'
    shot(lab_page, 'lesson_jupyterlab.png')  # again, with the picture loaded
    lab_page.watch.assert_offline()


def test_lab_denoising_demo_generate_and_step(lab_page, lab):
    "The demo lesson's widget in a kernel: generate, then the step slider, each change the picture."
    _, _, root = lab
    show = lesson_cell(NBS / '13_demo.ipynb', r'(?m)^demo = DenoisingDemo\(')  # the lesson's own cell that shows the demo
    bh.write_notebook(root / '_13_demo.ipynb', [
        "from vidlab.pipeline import *\nfrom vidlab.demo import *\npipe = TextToVideoPipeline.from_pretrained(device='cpu')", show])
    open_notebook(lab_page, lab, '_13_demo.ipynb')
    run_all(lab_page, lab, '_13_demo.ipynb', 'button.widget-button')
    out = lab_page.locator('.jp-OutputArea-output').filter(has=lab_page.locator('button.widget-button', has_text='generate'))
    panel, label = out.locator('img.widget-image').first, out.locator('.widget-html-content', has_text=re.compile(r'^step '))
    expect()(label).to_contain_text('step 0 /')
    src0, img0 = panel.get_attribute('src'), bh.img_digest(panel)

    out.locator('.widget-text input[type="text"]').first.fill('a large blue square moving up')
    out.locator('button.widget-button', has_text='generate').click()
    expect()(panel).not_to_have_attribute('src', src0)  # the kernel sampled again and sent a new picture
    src1, img1 = panel.get_attribute('src'), bh.img_digest(panel)
    assert img1 != img0, 'generate with a new prompt left the picture unchanged'

    step = slider(out, 'step')
    drag_to(lab_page, step, 0.6)
    expect()(label).not_to_contain_text('step 0 /')
    expect()(panel).not_to_have_attribute('src', src1)
    img2 = bh.img_digest(panel)
    assert img2 != img1, 'moving the step slider left the picture unchanged'
    assert step.locator('.noUi-handle').get_attribute('aria-valuenow') not in ('0', '0.0')
    shot(out.first, 'live_widget_jupyterlab.png')
    lab_page.watch.assert_offline()


def test_lab_schedule_explorer_responds(lab_page, lab):
    "Lesson 7's ScheduleExplorer in a kernel: the t slider and the schedule menu each change the picture."
    _, _, root = lab
    show = lesson_cell(NBS / '07_diffusion.ipynb', r'^ScheduleExplorer\(')
    bh.write_notebook(root / '_07_diffusion_explorer.ipynb', [
        "from vidlab.data import ShapesWorld\nfrom vidlab.diffusion import *\n"
        "clip = ShapesWorld(frames=8, size=32, seed=0).batch(range(1))['video'][0]  # as lesson 7 makes it", show])
    open_notebook(lab_page, lab, '_07_diffusion_explorer.ipynb')
    run_all(lab_page, lab, '_07_diffusion_explorer.ipynb', '.widget-hslider')
    out = lab_page.locator('.jp-OutputArea-output').filter(has=lab_page.locator('.widget-hslider'))
    clip, label = out.locator('img.widget-image').first, out.locator('.widget-html-content')
    expect()(clip).to_be_visible()
    src0, img0, text0 = clip.get_attribute('src'), bh.img_digest(clip), label.inner_text()

    drag_to(lab_page, slider(out, 't'), 0.15)
    expect()(label).not_to_have_text(text0)
    expect()(clip).not_to_have_attribute('src', src0)
    src1, img1, text1 = clip.get_attribute('src'), bh.img_digest(clip), label.inner_text()
    assert img1 != img0, 'moving the t slider left the noised clip unchanged'

    menu = out.locator('.widget-dropdown select').first
    other = [o for o in menu.locator('option').all_inner_texts() if o.strip() != menu.input_value()][0]
    menu.select_option(label=other.replace('\xa0', ' '))
    expect()(label).not_to_have_text(text1)
    expect()(clip).not_to_have_attribute('src', src1)
    assert bh.img_digest(clip) != img1, 'another schedule left the noised clip unchanged'
    shot(out.first, 'live_widget_schedule_explorer.png')
    lab_page.watch.assert_offline()


# ---------------------------------------------------------------- (b) the built site
@pytest.fixture(scope='module')
def site(tmp_path_factory):
    "The course site: VIDLAB_SITE if set, else built now with `python tools/site.py --out DIR` (once per test run)."
    bh.sync_playwright()
    if os.environ.get('VIDLAB_SITE'): return Path(os.environ['VIDLAB_SITE'])
    tool = ROOT / 'tools' / 'site.py'
    if not tool.exists(): bh.skip_or_fail('tools/site.py does not exist yet: no site to test')
    shared = tmp_path_factory.getbasetemp()
    shared = shared.parent if os.environ.get('PYTEST_XDIST_WORKER') else shared  # one build for all xdist workers
    out, done = shared / 'vidlab-site', shared / 'vidlab-site.done'
    try: from filelock import FileLock
    except ImportError: FileLock = None
    lock = FileLock(str(shared / 'vidlab-site.lock')) if FileLock else None
    if lock: lock.acquire()
    try:
        if not done.exists():
            shutil.rmtree(out, ignore_errors=True)
            t0 = time.perf_counter()
            r = subprocess.run([sys.executable, str(tool), '--out', str(out)], cwd=ROOT, capture_output=True, text=True,
                               timeout=1800)
            print(f'site built in {time.perf_counter() - t0:.1f} s: {out}')
            assert r.returncode == 0, f'python tools/site.py --out DIR failed ({r.returncode}):\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}'
            done.write_text('ok')
    finally:
        if lock: lock.release()
    return out


@pytest.fixture(scope='module')
def served(site):
    with bh.static_server(site) as base: yield base


def site_pages(site: Path) -> list[str]:
    "The pages the contract promises: index.html, api.html, and <stem>.html for every lesson nbs/NN_*.ipynb."
    return ['index.html'] + [f'{p.stem}.html' for p in LESSONS] + ['api.html']


def check_images(page) -> list[str]:
    "Every <img> on the page decoded (lazy ones made eager first): the sources of the broken ones."
    return page.evaluate("""async () => Promise.all(Array.from(document.images).map(async img => {
        img.loading = 'eager';
        try { await img.decode(); } catch (e) { return img.getAttribute('src').slice(0, 120); }
        return img.naturalWidth > 0 ? null : img.getAttribute('src').slice(0, 120);
    })).then(r => r.filter(x => x !== null))""")


def check_videos(page) -> list[str]:
    "Every <video> on the page reaches its metadata (decodable by this Chromium): the sources of the broken ones."
    return page.evaluate("""async () => Promise.all(Array.from(document.querySelectorAll('video')).map(v => new Promise(res => {
        const name = (v.currentSrc || v.getAttribute('src') || '<source>').slice(0, 80);
        if (v.error) return res(`${name} (media error ${v.error.code})`);
        if (v.readyState >= 1) return res(null);
        v.addEventListener('loadedmetadata', () => res(null), {once: true});
        v.addEventListener('error', () => res(`${name} (media error ${v.error && v.error.code})`), {once: true});
        setTimeout(() => res(`${name} (no metadata after 20 s, networkState ${v.networkState})`), 20000);
        if (v.preload === 'none') { v.preload = 'auto'; v.load(); }
    }))).then(r => r.filter(x => x !== null))""")


def test_site_has_every_page(site):
    missing = [p for p in site_pages(site) if not (site / p).exists()]
    assert not missing, f'the site lacks {missing}'


def test_site_every_page_loads_clean(page, site, served):
    "Every page: HTTP 200, no console error, no broken image or video, every relative link resolves, nothing off-site."
    import urllib.request
    from urllib.parse import urljoin, urlsplit
    problems, links = [], {}
    for name in site_pages(site):
        if not (site / name).exists(): continue  # test_site_has_every_page names it
        w = page.watch
        n_console, n_errors, n_failed = len(w.console), len(w.errors), len(w.failed)
        r = page.goto(f'{served}/{name}', wait_until='load')
        if r is None or r.status != 200: problems.append(f'{name}: HTTP {r.status if r else "no response"}')
        broken = check_images(page)
        if broken: problems.append(f'{name}: broken images {broken}')
        broken = check_videos(page)
        if broken: problems.append(f'{name}: videos that do not play {broken}')
        problems += [f'{name}: console error: {m}' for m in w.console[n_console:]]
        problems += [f'{name}: uncaught error: {m}' for m in w.errors[n_errors:]]
        problems += [f'{name}: failed request {m}' for m in w.failed[n_failed:]]
        for href in page.eval_on_selector_all('a[href]', 'els => els.map(a => a.getAttribute("href"))'):
            u = urlsplit(href)
            if u.scheme or u.netloc:  # a link out (a paper, the repository): allowed, never fetched here
                if u.scheme in ('file',): problems.append(f'{name}: link to a local file path {href}')
                continue
            if href.startswith('/'): problems.append(f'{name}: absolute link {href} (breaks when opened as a folder)')
            elif u.path: links.setdefault(urljoin(f'{served}/{name}', u.path), name)
    for url, where in links.items():
        try:
            with urllib.request.urlopen(url, timeout=10) as r: status = r.status
        except urllib.error.HTTPError as e: status = e.code
        if status != 200: problems.append(f'{where}: link {url} answers {status}')
    page.watch.assert_offline()
    assert not problems, '\n'.join(problems)


def test_site_static_scrubber(page, site, served):
    "23_pages.html: moving the denoising scrubber's slider changes the frame it shows, with no kernel behind the page."
    page.goto(f'{served}/23_pages.html', wait_until='load')  # a static page: after load, all of it is there
    rng = page.locator('input.vidlab-scrubber[type="range"]').last  # the lesson's last scrubber: the denoising demo's
    assert rng.count() == 1 and page.locator('img.vidlab-scrubber-frame').count() > 0, \
        '23_pages.html has no static scrubber (input.vidlab-scrubber of type range and img.vidlab-scrubber-frame)'
    container = rng.locator('xpath=ancestor::*[.//img[contains(@class, "vidlab-scrubber-frame")]][1]')
    frame = container.locator('img.vidlab-scrubber-frame').first  # the frame beside this slider
    expect()(rng).to_be_visible()
    rng.scroll_into_view_if_needed()
    assert frame.evaluate('img => img.complete && img.naturalWidth > 0'), 'the scrubber frame does not load'
    src0, img0, v0 = frame.get_attribute('src'), bh.img_digest(frame), rng.input_value()
    rng.focus()
    page.keyboard.press('End' if rng.input_value() != rng.get_attribute('max') else 'Home')  # as a keyboard user would
    expect()(rng).not_to_have_value(v0)
    expect()(frame).not_to_have_attribute('src', src0)
    frame.evaluate('img => img.decode()')
    assert bh.img_digest(frame) != img0, 'the scrubber shows the same picture at another step'
    box = rng.bounding_box()  # and with the mouse, half way along
    v1, src1 = rng.input_value(), frame.get_attribute('src')
    page.mouse.click(box['x'] + box['width'] / 2, box['y'] + box['height'] / 2)
    expect()(rng).not_to_have_value(v1)
    expect()(frame).not_to_have_attribute('src', src1)
    shot(container, 'static_scrubber.png')
    page.goto(f'{served}/12_pipeline.html')
    shot(page, 'lesson_page.png')
    page.watch.assert_offline()


def test_site_search_from_the_folder(page, site):
    "Opened as files (file://, the way the README says), typing in the search box lists pages; a result opens."
    page.goto((site / 'index.html').as_uri())
    box = page.locator('input#vidlab-search')
    visible_links = 'els => els.filter(a => a.offsetParent !== null).map(a => a.href)'
    before = set(page.eval_on_selector_all('a[href]', visible_links))
    box.click()
    box.press_sequentially('sampler', delay=30)
    page.wait_for_function("""before => Array.from(document.querySelectorAll('a[href]'))
        .filter(a => a.offsetParent !== null && !before.includes(a.href)).length > 0""", arg=sorted(before))
    hits = [h for h in page.eval_on_selector_all('a[href]', visible_links) if h not in before]
    assert any('08_samplers.html' in h for h in hits), f'searching "sampler" does not list lesson 08: {hits[:10]}'
    shot(page, 'site_search.png')
    page.goto(hits[0])
    assert page.url.split('#')[0].endswith('.html') and Path(page.url.split('#')[0][len('file://'):]).exists()
    page.watch.assert_offline()
