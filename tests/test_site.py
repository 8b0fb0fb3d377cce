"""The stored-outputs machinery (tools/execute.py) and the offline course site (tools/site.py), on small notebooks.

Fast: synthetic notebooks in a temporary folder; one tiny notebook runs in a real kernel (twice: same outputs).
The real lessons are executed by the lead with `python tools/execute.py`; CI checks them with `--check`.
"""
import importlib.util, json, re
from pathlib import Path
import numpy as np
import pytest

nbformat = pytest.importorskip('nbformat')
pytest.importorskip('nbconvert')
ROOT = Path(__file__).resolve().parent.parent


def _tool(name):
    "Import tools/<name>.py (not a package; `site` would be the standard library's module)."
    spec = importlib.util.spec_from_file_location(f'vidlab_tools_{name}', ROOT / 'tools' / f'{name}.py')
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


execute, site_tool = _tool('execute'), _tool('site')

pytestmark = pytest.mark.filterwarnings('ignore::nbformat.warnings.MissingIDFieldWarning')
PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=='  # 1x1


def _nb(*cells, metadata=None) -> dict:
    nb = {'cells': [], 'metadata': {'kernelspec': {'display_name': 'python3', 'language': 'python', 'name': 'python3'}},
          'nbformat': 4, 'nbformat_minor': 5}
    nb['metadata'].update(metadata or {})
    for kind, src, *outs in cells:
        c = {'cell_type': kind, 'metadata': {}, 'source': src}
        if kind == 'code': c.update(execution_count=None, outputs=outs[0] if outs else [])
        nb['cells'].append(c)
    return nb


def _write(path:Path, nb:dict) -> Path:
    path.write_text(json.dumps(nb, indent=1))
    return path


def _display(data:dict) -> dict: return {'output_type': 'display_data', 'data': data, 'metadata': {}}


@pytest.fixture
def course(tmp_path) -> Path:
    "A three-page course: the map, a lesson with math, pictures, a scrubber and a widget picture, and a last lesson."
    from vidlab.pages import Scrubber
    nbs = tmp_path / 'nbs'
    (nbs / 'images').mkdir(parents=True)
    (nbs / 'images' / 'map.png').write_bytes(b'\x89PNG\r\n\x1a\n')
    scrub = Scrubber([np.full((4, 4, 3), v, np.float32) for v in (0, .5, 1)], title='three greys').html()
    _write(nbs / 'index.ipynb', _nb(('markdown', '# vidlab\n> the course\n\n![map](images/map.png)\n\nStart with '
                                     '[core](00_core.ipynb), then [the pipeline](01_pipeline.ipynb#The-demo).')))
    _write(nbs / '00_core.ipynb', _nb(
        ('code', '#| default_exp core'),
        ('markdown', '# Core\n> ground rules\n\n## Noise levels\nThe forward process $x_t = \\alpha_t x_0 + \\sigma_t \\epsilon$:\n\n'
                     '$$\\mathrm{SNR}(t) = \\frac{\\alpha_t^2}{\\sigma_t^2}$$\n\nSee [the README](../README.md) and '
                     '[nothing](no_such_file.txt).'),
        ('code', '#| export\ndef f(x): return x', [_display({'image/png': PNG, 'text/plain': '<Figure>'})]),
        ('code', '#| hide\nsecret = 1'),
        ('code', 'demo', [_display({'application/vnd.jupyter.widget-view+json': {'model_id': 'x', 'version_major': 2,
                                    'version_minor': 0}, 'image/png': PNG, 'text/plain': 'Demo: a widget'})])))
    _write(nbs / '01_pipeline.ipynb', _nb(
        ('markdown', '# Pipeline\n\n## The demo\nScrub the steps.'),
        ('code', 'Scrubber(...)', [{'output_type': 'execute_result', 'execution_count': None, 'metadata': {},
                                    'data': {'text/html': scrub, 'text/plain': 'Scrubber'}}])))
    return nbs


def test_site_pages_links_and_assets(course, tmp_path):
    out = tmp_path / 'site'
    site = site_tool.build(out, course, api=False)
    assert site.problems == []
    assert sorted(p.name for p in out.glob('*.html')) == ['00_core.html', '01_pipeline.html', 'index.html']
    index, core, pipe = [(out / f'{n}.html').read_text() for n in ('index', '00_core', '01_pipeline')]
    # previous / next, in course order
    assert 'class="vidlab-next" rel="next" href="00_core.html"' in index and 'class="vidlab-prev"' not in index
    assert 'rel="prev" href="index.html"' in core and 'rel="next" href="01_pipeline.html"' in core
    assert 'rel="prev" href="00_core.html"' in pipe and 'class="vidlab-next"' not in pipe
    # links between lessons become links between pages; files of the repository point at the code host
    assert 'href="00_core.html"' in index and 'href="01_pipeline.html#The-demo"' in index
    assert '/blob/main/README.md' in core
    assert any('no_such_file.txt' in n for n in site.notes) and 'href="no_such_file.txt"' not in core
    # pictures are copied beside the pages, equations become MathML, hidden and directive lines stay out
    assert (out / 'images' / 'map.png').exists() and 'src="images/map.png"' in index
    assert '<math' in core and 'display="block"' in core and '$$' not in core
    assert 'secret' not in core and 'default_exp' not in core and '#| export' not in core
    assert 'widget-view' not in core and 'data:image/png;base64,' in core
    # the scrubber and the search box, as the browser tests expect them
    assert pipe.count('class="vidlab-scrubber"') == 1 and 'class="vidlab-scrubber-frame"' in pipe
    for page in (index, core, pipe): assert '<input id="vidlab-search"' in page
    # every asset is local, every reference relative
    for name in ('lab.css', 'site.css', 'site.js', 'search-index.js'): assert (out / 'assets' / name).exists()
    for page in out.glob('*.html'):
        text = page.read_text()
        for m in site_tool.RESOURCE.finditer(text):
            src = m.group(3)
            assert src.startswith('data:') or (not re.match(r'^[a-z]+:|^/', src) and (out / src).exists()), (page.name, src)
        assert 'cdn' not in text.lower() and 'require.js' not in text and 'mathjax' not in text.lower()
    css = (out / 'assets' / 'lab.css').read_text()
    assert '@import' not in css and all(u.startswith(('data:', '#', '"data:', "'data:")) for u in re.findall(r'url\(([^)]*)\)', css))
    # the search index: an entry per heading, with the text under it
    search = json.loads((out / 'assets' / 'search-index.js').read_text().split('=', 1)[1].rstrip(';\n'))
    entry = next(e for e in search if e['title'] == 'Noise levels')
    assert entry['url'] == '00_core.html#Noise-levels' and 'forward process' in entry['text']


def test_site_reports_external_resources(course, tmp_path):
    nb = json.loads((course / '01_pipeline.ipynb').read_text())
    nb['cells'][1]['outputs'][0]['data']['text/html'] = '<img src="https://example.com/x.png"><script src="//cdn.x/y.js"></script>'
    _write(course / '01_pipeline.ipynb', nb)
    site = site_tool.build(tmp_path / 'site', course, api=False)
    assert len(site.problems) == 2 and all('fetched from the network' in p for p in site.problems)
    assert site_tool.main(['--out', str(tmp_path / 'site2'), '--nbs', str(course), '--no-api']) == 1


def test_site_executed_copies_replace_their_lessons(course, tmp_path):
    ex = tmp_path / 'executed'
    ex.mkdir()
    nb = json.loads((course / '01_pipeline.ipynb').read_text())
    nb['cells'][0]['source'] = '# Pipeline, executed\n\n## The demo'
    _write(ex / '01_pipeline.ipynb', nb)
    _write(ex / '99_stray.ipynb', nb)  # not a lesson of nbs/: ignored
    assert [p.parent.name for p in site_tool.pages(course, ex)] == ['nbs', 'nbs', 'executed']


def test_api_page_lists_exported_names(tmp_path):
    site = site_tool.Site(tmp_path, ROOT / 'nbs')
    body = site_tool.api_page(site, [('core', '00_core.html', '00 Core'), ('pages', '23_pages.html', '20 Pages')])
    assert 'id="vidlab.pages.Scrubber"' in body and 'id="vidlab.core.save_video"' in body
    assert 'frames per second' in body  # a parameter's docments comment
    assert any(e['url'] == 'api.html#vidlab.pages.with_snapshot' for e in site.search)


def test_code_hash_and_check(tmp_path):
    nb = _nb(('markdown', '# T'), ('code', 'x = 1  \n'), ('code', ''), ('code', 'print(x)', [{'output_type': 'stream',
                                                                                             'name': 'stdout', 'text': '1\n'}]))
    h = execute.code_hash(nb)
    assert h == execute.code_hash(_nb(('code', 'x = 1'), ('markdown', 'other prose'), ('code', 'print(x)')))  # prose, spaces
    assert h != execute.code_hash(_nb(('code', 'x = 2'), ('code', 'print(x)')))
    fresh = _write(tmp_path / '00_fresh.ipynb', _nb(('code', 'x = 1')))
    good = _write(tmp_path / '01_good.ipynb', {**nb, 'metadata': {'vidlab': {'code_sha256': h, 'mode': 'full'}}})
    fast = _write(tmp_path / '02_fast.ipynb', {**nb, 'metadata': {'vidlab': {'code_sha256': h, 'mode': 'fast'}}})
    stale = json.loads(good.read_text())
    stale['cells'][1]['source'] = 'x = 2'
    stale = _write(tmp_path / '03_stale.ipynb', stale)
    unrecorded = _write(tmp_path / '04_unrecorded.ipynb', nb)
    stripped = _write(tmp_path / '05_stripped.ipynb', {**_nb(('code', 'x')), 'metadata': {'vidlab': {'code_sha256': 'x'}}})
    problems, warns = execute.check([fresh, good, fast, stale, unrecorded, stripped])
    assert [p.split(':')[0] for p in problems] == ['03_stale.ipynb', '04_unrecorded.ipynb', '05_stripped.ipynb']
    assert 'code changed' in problems[0] and '--only 03_stale' in problems[0]
    assert [w.split(':')[0] for w in warns] == ['00_fresh.ipynb', '02_fast.ipynb']
    assert execute.main(['--check', '--nbs', str(tmp_path), '--only', '00_fresh', '01_good']) == 0
    assert execute.main(['--check', '--require-outputs', '--nbs', str(tmp_path), '--only', '00_fresh', '01_good']) == 1
    assert execute.main(['--check', '--nbs', str(tmp_path)]) == 1
    with pytest.raises(SystemExit, match='unknown lesson'): execute.main(['--check', '--nbs', str(tmp_path), '--only', '07_x'])


def test_size_budget(tmp_path):
    big = _write(tmp_path / '00_big.ipynb', _nb(('code', 'x', [_display({'image/png': 'A' * 50_000})])))
    small = _write(tmp_path / '01_small.ipynb', _nb(('code', 'y')))
    rows, over = execute.sizes([big, small], budget=40_000)
    assert [r[0] for r in over] == ['00_big.ipynb'] and rows[0][3] == 0 and rows[0][4] > 50_000
    assert execute.main(['--sizes', '--nbs', str(tmp_path), '--budget-mb', '0.03']) == 1
    assert execute.main(['--sizes', '--nbs', str(tmp_path)]) == 0


def test_execute_in_a_real_kernel(tmp_path):
    "Outputs stored, seeded (two runs, same file), widgets stored as pictures, eval: false skipped, slow cells in full mode."
    pytest.importorskip('nbclient')
    src = tmp_path / 'src'
    src.mkdir()
    _write(src / '00_tiny.ipynb', _nb(
        ('markdown', '# Tiny'),
        ('code', 'import torch, ipywidgets as W\nprint(torch.rand(2).tolist())'),
        ('code', '#| eval: false\nprint("never")'),
        ('code', '#| slow\nprint("slow ran")'),
        ('code', "W.VBox([W.IntSlider(3, description='k')])"),
        ('code', 'import sys\nprint("warned", file=sys.stderr)\n_ = sys.stderr.write("\\r 50%|##   | 1/2 [00:01<00:01]")')))
    out = tmp_path / 'out'
    assert execute.main(['--nbs', str(src), '--out', str(out), '--timeout', '300']) == 0
    first = (out / '00_tiny.ipynb').read_text()
    nb = json.loads(first)
    c = nb['cells']
    assert c[1]['outputs'][0]['text'] == [f"{__import__('torch').manual_seed(0) and __import__('torch').rand(2).tolist()}\n"]
    assert c[2]['outputs'] == [] and c[3]['outputs'][0]['text'] == ['slow ran\n']
    data = c[4]['outputs'][0]['data']
    assert 'image/png' in data and 'application/vnd.jupyter.widget-view+json' not in data
    assert [o['text'] for o in c[5]['outputs']] == [['warned\n']]  # the progress bar is left out, the warning kept
    assert all(x.get('execution_count') is None and x['metadata'] == {} for x in c if x['cell_type'] == 'code')
    assert nb['metadata']['vidlab'] == {'code_sha256': execute.code_hash(nb), 'mode': 'full'}
    assert execute.check([out / '00_tiny.ipynb']) == ([], [])
    from nbdev.clean import clean_nb
    from execnb.nbio import nb2str
    clean_nb(nb, False, {'vidlab'}, [], True)
    assert nb2str(nb) == first  # nbdev_clean (with `allowed_metadata_keys = vidlab`) leaves it as it is
    assert execute.main(['--nbs', str(src), '--out', str(out), '--fast']) == 0
    fast = json.loads((out / '00_tiny.ipynb').read_text())
    assert fast['cells'][3]['outputs'] == [] and fast['metadata']['vidlab']['mode'] == 'fast'
    assert fast['cells'][1]['outputs'] == c[1]['outputs']  # seeded: the same draw in another run
    assert (src / '00_tiny.ipynb').read_text().count('"outputs": []') == 5  # --out leaves the sources alone
