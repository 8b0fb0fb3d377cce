#!/usr/bin/env python3
"""Build the course site, offline, from the lessons and the outputs stored in them.

    python tools/site.py --out _site                  # then open _site/index.html in a browser
    python tools/site.py --out _site --executed /tmp/ex   # with executed copies (`tools/execute.py --out /tmp/ex`)

`index.html` is the course map (`nbs/index.ipynb`), `NN_name.html` one page per lesson with previous/next links,
`api.html` the reference of every exported name (from the modules' docstrings), and a search box over all of them.
Everything is local: the notebook styles come from the installed nbconvert, equations are turned into MathML at build
time (latex2mathml; without it they stay as LaTeX text), pictures are copied or inlined, and nothing is fetched,
at build time or when a page is read. Dev-only: the package never imports this.
"""
import argparse, html, importlib, inspect, json, re, shutil, sys, time, warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NBS = ROOT / 'nbs'
HERE = Path(__file__).resolve().parent / 'site'
DIRECTIVE = re.compile(r'^\s*#\|')
HIDE = re.compile(r'^\s*#\|\s*(hide|exporti?\s*$|default_exp\b)', re.MULTILINE)  # cells nbdev's docs leave out
HIDE_ONLY = re.compile(r'^\s*#\|\s*hide\b', re.MULTILINE)
WIDGET_VIEW = 'application/vnd.jupyter.widget-view+json'
EXTERNAL = re.compile(r'^(?:[a-z][a-z0-9+.-]*:)?//', re.I)  # http://, https://, //host: anything not on this disk
A_HREF = re.compile(r'(<a\s[^>]*?\bhref=")([^"]*)(")', re.I)
RESOURCE = re.compile(r'<(img|script|link|video|source|audio|iframe|embed|object)\b[^>]*?\s(src|href|poster|data)="([^"]*)"', re.I)
HEADING = re.compile(r'<h[123][^>]*\bid="([^"]+)"[^>]*>(.*?)</h[123]>', re.I | re.S)
SCRIPT_STYLE = re.compile(r'<(script|style)\b.*?</\1>', re.I | re.S)
TAG = re.compile(r'<[^>]+>')
IMG_NO_ALT = re.compile(r'<img(?![^>]*\salt=)(\s)', re.I)


def _text(fragment:str) -> str:
    "The readable text of an HTML fragment, whitespace collapsed."
    return re.sub(r'\s+', ' ', html.unescape(TAG.sub(' ', SCRIPT_STYLE.sub(' ', fragment)))).strip()


def _git_url() -> str:
    "The repository's web address from settings.ini (for links to files that are not lessons), or ''."
    ini = ROOT / 'settings.ini'
    m = re.search(r'^git_url\s*=\s*(\S+)', ini.read_text(), re.M) if ini.exists() else None
    return m.group(1).rstrip('/') if m else ''


def pages(nbs:Path, executed:Path|None=None) -> list:
    "The site's notebooks in reading order (the course map, then the lessons); executed copies replace their originals."
    found = {p.name: p for p in sorted(nbs.glob('[0-9][0-9]_*.ipynb')) + [nbs / 'index.ipynb'] if p.exists()}
    if executed: found.update({p.name: p for p in Path(executed).glob('*.ipynb') if p.name in found})
    return [found[n] for n in sorted(found, key=lambda n: (n != 'index.ipynb', n))]


def title_of(nb, path:Path) -> str:
    "'07 Samplers' for a lesson (its number and `# Title`), the `# Title` for the course map."
    h1 = next((m.group(1).strip() for c in nb.cells if c.cell_type == 'markdown'
               for m in [re.search(r'^#\s+(.+)$', c.source, re.M)] if m), path.stem)
    num = re.match(r'(\d\d)_', path.name)
    return f'{num.group(1)} {h1}' if num else h1


def default_exp(nb) -> str|None:
    "The module a notebook exports (`#| default_exp name`)."
    for c in nb.cells:
        m = re.search(r'^\s*#\|\s*default_exp\s+(\S+)', c.source, re.M) if c.cell_type == 'code' else None
        if m: return m.group(1)
    return None


def for_reading(nb):
    "The notebook as a reader sees it: hidden cells out, `#|` directives out of the code, no dead widget views."
    cells = []
    for c in nb.cells:
        c.pop('id', None)  # nbformat makes up random ids for cells without one: the same page each build
        if c.cell_type == 'code':
            src = '\n'.join(l for l in c.source.splitlines() if not DIRECTIVE.match(l)).strip('\n')
            if HIDE_ONLY.search(c.source) or (not src.strip() and not c.get('outputs')): continue
            c.source = src
            for o in c.get('outputs', []):
                if WIDGET_VIEW in o.get('data', {}):
                    o['data'].pop(WIDGET_VIEW)
                    if not o['data']: o['data']['text/plain'] = '(a widget: run the notebook to use it)'
        cells.append(c)
    nb.cells = cells
    nb.metadata.pop('widgets', None)  # widget state would make nbconvert load the widget manager from a CDN
    return nb


def _mathml(tex:str, display:str) -> str:
    "LaTeX -> MathML (rendered by the browser itself); LaTeX text if latex2mathml is missing or cannot parse it."
    try:
        from latex2mathml.converter import convert
        return convert(tex.strip(), display=display)
    except Exception:
        _mathml.failed.append(tex)
        code = f'<code class="vidlab-tex">{html.escape(tex.strip())}</code>'
        return f'<div>{code}</div>' if display == 'block' else code
_mathml.failed = []


def exporter():
    "nbconvert's HTML exporter with the cells-only template and equations rendered to MathML."
    from nbconvert import HTMLExporter
    from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath
    from jinja2 import pass_context

    class MathMLRenderer(IPythonRenderer):
        def block_math(self, body): return _mathml(body, 'block')
        def inline_math(self, body): return _mathml(body, 'inline')
        def latex_environment(self, name, body): return _mathml(f'\\begin{{{name}}}{body}\\end{{{name}}}', 'block')

    class SiteExporter(HTMLExporter):
        @pass_context
        def markdown2html(self, context, source):
            cell = context.get('cell', {})
            renderer = MathMLRenderer(escape=False, attachments=cell.get('attachments', {}), embed_images=self.embed_images,
                                      path=context.get('resources', {}).get('metadata', {}).get('path', ''),
                                      anchor_link_text=self.anchor_link_text, exclude_anchor_links=self.exclude_anchor_links,
                                      **self.lexer_options)
            return MarkdownWithMath(renderer=renderer).render(source)

        def from_notebook_node(self, nb, resources=None, **kw):
            "HTMLExporter's, less its final BeautifulSoup pass (alt texts, tabindex), which took most of a build."
            from nbconvert.exporters.templateexporter import TemplateExporter
            from nbconvert.filters.highlight import Highlight2HTML
            from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
            resources = self._init_resources(resources)
            self.register_filter('highlight_code', Highlight2HTML(pygments_lexer='ipython3', parent=self))
            self.register_filter('filter_data_type', WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata, parent=self,
                                                                           resources=resources))
            body, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
            return IMG_NO_ALT.sub(r'<img alt=""\1', body), resources

    return SiteExporter(template_name='vidlab', extra_template_basedirs=[str(HERE / 'templates')],
                        exclude_input_prompt=True, exclude_output_prompt=True)


class Site:
    "Collects pages, the search index and the problems found while building."
    def __init__(self, out:Path, nbs:Path):
        self.out, self.nbs, self.git_url = out, nbs, _git_url()
        self.search, self.problems, self.notes, self.css = [], [], [], []

    def local_link(self, href:str, page_names:set) -> str|None:
        "Where a relative link of a notebook in nbs/ points on the site (None: nowhere, drop the link)."
        path, _, frag = href.partition('#')
        if not path: return href
        if path.endswith('.ipynb') and Path(path).name in page_names and '/' not in path:
            return Path(path).stem + '.html' + (f'#{frag}' if frag else '')
        src = (self.nbs / path).resolve()
        if src.is_file() and self.nbs.resolve() in src.parents:  # a file beside the lessons (a picture): copy it
            dst = self.out / src.relative_to(self.nbs.resolve())
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
            return href
        repo = (ROOT / 'nbs' / path).resolve()
        if (repo.exists() or src.exists()) and self.git_url:  # a file of the repository: its page on the code host
            rel = (repo if repo.exists() else src).relative_to(ROOT) if ROOT in (repo if repo.exists() else src).parents else None
            if rel is not None: return f'{self.git_url}/blob/main/{rel.as_posix()}' + (f'#{frag}' if frag else '')
        return None

    def fix_links(self, body:str, name:str, page_names:set) -> str:
        "Lessons' links to each other become links between pages; pictures are copied; nothing external is loaded."
        def link(m):
            href = html.unescape(m.group(2))
            if EXTERNAL.match(href) or href.startswith(('#', 'mailto:', 'data:')): return m.group(0)
            new = self.local_link(href, page_names)
            if new is None:
                self.notes.append(f'{name}: link to {href!r} points nowhere on the site: kept as text')
                return m.group(1).replace('href=', 'data-was=') + m.group(2) + m.group(3)
            return m.group(1) + html.escape(new) + m.group(3)
        body = A_HREF.sub(link, body)
        for m in RESOURCE.finditer(body):
            tag, attr, src = m.group(1), m.group(2), html.unescape(m.group(3))
            if not src or src.startswith('data:'): continue
            if EXTERNAL.match(src): self.problems.append(f'{name}: <{tag} {attr}="{src[:80]}"> would be fetched from the network')
            elif self.local_link(src, page_names) != src or not (self.out / src.split('#')[0]).exists():
                self.problems.append(f'{name}: <{tag} {attr}="{src[:80]}"> is not a file on the site')
        return body

    def index(self, body:str, url:str, page:str):
        "Search entries: one per heading of the page (h1-h3), with the text under it."
        parts = HEADING.split(body)  # text, id, heading, text, id, heading, text...
        sections = [(url, page, parts[0])] + [(f'{url}#{parts[i]}', _text(parts[i + 1]).rstrip('¶ ').strip() or page, parts[i + 2])
                                              for i in range(1, len(parts) - 2, 3)]
        for u, title, chunk in sections:
            text = _text(chunk)
            if text or u != url: self.search.append(dict(url=u, page=page, title=title, text=text[:4000]))

    def nav(self, order:list, i:int) -> str:
        "Previous / next links."
        prev = f'<a class="vidlab-prev" rel="prev" href="{order[i - 1][0]}">&larr; {html.escape(order[i - 1][1])}</a>' if i > 0 else '<span></span>'
        nxt = (f'<a class="vidlab-next" rel="next" href="{order[i + 1][0]}">{html.escape(order[i + 1][1])} &rarr;</a>'
               if i + 1 < len(order) else '<span></span>')
        return f'<nav class="vidlab-prevnext">{prev}{nxt}</nav>'

    def write_page(self, file:str, title:str, body:str, nav:str=''):
        page = (PAGE.replace('{{title}}', html.escape(title)).replace('{{nav}}', nav).replace('{{body}}', body)
                .replace('{{note}}', NOTE))
        (self.out / file).write_text(page, encoding='utf-8')


PAGE = '''<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{{title}} · vidlab</title>
<link rel="stylesheet" href="assets/lab.css">
<link rel="stylesheet" href="assets/site.css">
</head>
<body class="vidlab jp-Notebook" data-jp-theme-light="true" data-jp-theme-name="JupyterLab Light">
<header class="vidlab-header">
<a class="vidlab-brand" href="index.html">vidlab</a>
<a href="index.html">Course map</a>
<a href="api.html">API</a>
<span class="vidlab-spacer"></span>
<div class="vidlab-search-box">
<input id="vidlab-search" type="search" placeholder="Search the course" aria-label="Search the course" autocomplete="off">
<div id="vidlab-search-results"></div>
</div>
</header>
<div class="vidlab-page">
{{nav}}
<main>
{{body}}
</main>
{{nav}}
{{note}}
</div>
<script src="assets/search-index.js"></script>
<script src="assets/site.js"></script>
</body>
</html>
'''
NOTE = ('<p class="vidlab-note">Rendered from the notebook and the outputs stored in it: widgets appear as pictures of '
        'their state (run the notebook in Jupyter to use them); the denoising scrubber works here, in the page.</p>')


def _signature(obj) -> str:
    try: return str(inspect.signature(obj))
    except (TypeError, ValueError): return ''


def _params(obj) -> str:
    "A table of the parameters' docments comments (the `# ...` after each parameter), when fastcore can read them."
    try:
        from fastcore.docments import docments
        docs = {k: v for k, v in docments(obj).items() if v and k != 'return'}
    except Exception: return ''
    if not docs: return ''
    rows = ''.join(f'<tr><td><code>{html.escape(k)}</code></td><td>{html.escape(v)}</td></tr>' for k, v in docs.items())
    return f'<table>{rows}</table>'


def api_page(site:Site, modules:list) -> str:
    "The API reference: every name in each module's `__all__`, its signature, docstring and parameter comments."
    parts = ['<div class="vidlab-api"><h1 id="API-reference">API reference</h1>',
             '<p>Every name the lessons export, module by module, in course order: signature, docstring, and the comment '
             'on each parameter. Each module is written by its lesson (linked), where the code is explained and tested.</p>']
    toc = ' · '.join(f'<a href="#vidlab.{m}">{m}</a>' for m, _, _ in modules)
    parts.append(f'<p>{toc}</p>')
    for mod_name, page, lesson in modules:
        try: mod = importlib.import_module(f'vidlab.{mod_name}')
        except Exception as e:
            site.problems.append(f'api: vidlab.{mod_name} does not import: {e}')
            continue
        doc = inspect.getdoc(mod) or ''
        parts.append(f'<h2 id="vidlab.{mod_name}">vidlab.{mod_name}</h2><p>{html.escape(doc)} '
                     f'<a href="{page}">Lesson {html.escape(lesson)}</a></p>')
        for name in getattr(mod, '__all__', []):
            obj = getattr(mod, name, None)
            anchor = f'vidlab.{mod_name}.{name}'
            if inspect.isclass(obj) or inspect.isfunction(obj):
                kind = 'class' if inspect.isclass(obj) else 'def'
                d = inspect.getdoc(obj) or ''
                item = (f'<div class="item" id="{anchor}"><div class="sig">{kind} <b>{name}</b>{html.escape(_signature(obj))}</div>'
                        f'<div class="doc">{html.escape(d)}</div>{_params(obj)}')
                text = d
                if inspect.isclass(obj):
                    for mname, m in vars(obj).items():
                        if mname.startswith('_') or not callable(m) or not inspect.getdoc(m): continue
                        item += (f'<div class="method"><div class="sig">{name}.<b>{mname}</b>{html.escape(_signature(m))}</div>'
                                 f'<div class="doc">{html.escape(inspect.getdoc(m))}</div></div>')
                        text += f' {mname}: {inspect.getdoc(m)}'
                parts.append(item + '</div>')
            else:
                r = repr(obj)
                r = r if len(r) < 200 else r[:200] + '…'
                parts.append(f'<div class="item" id="{anchor}"><div class="sig"><b>{name}</b> = {html.escape(r)}</div></div>')
                text = r
            site.search.append(dict(url=f'api.html#{anchor}', page='API', title=f'vidlab.{mod_name}.{name}', text=text[:1000]))
    return '\n'.join(parts) + '</div>'


def build(out:Path, nbs:Path=NBS, api:bool=True, executed:Path|None=None) -> Site:
    "Build the whole site into `out`; returns the Site (its `problems` list what would break in a browser)."
    import nbformat
    out, nbs = Path(out), Path(nbs).resolve()
    out.mkdir(parents=True, exist_ok=True)
    (out / 'assets').mkdir(exist_ok=True)
    site, exp, order, notebooks = Site(out, nbs), exporter(), [], []
    _mathml.failed.clear()
    for p in pages(nbs, executed):
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')  # nbdev_clean strips cell ids: nbformat warns that they are missing
            nb = nbformat.read(p, as_version=4)
        notebooks.append((p, nb))
        order.append((f'{p.stem}.html', 'Course map' if p.stem == 'index' else title_of(nb, p)))
    names = {p.name for p, _ in notebooks}
    modules = []
    for i, (p, nb) in enumerate(notebooks):
        mod = default_exp(nb)
        if mod: modules.append((mod, f'{p.stem}.html', order[i][1]))
        body, resources = exp.from_notebook_node(for_reading(nb), resources={'metadata': {'name': p.stem, 'path': str(nbs)}})
        site.css = site.css or resources.get('inlining', {}).get('css', [])
        body = site.fix_links(body, p.name, names)
        site.index(body, f'{p.stem}.html', order[i][1])
        site.write_page(f'{p.stem}.html', order[i][1], body, site.nav(order, i))
    if api:
        body = api_page(site, modules)
        site.write_page('api.html', 'API reference', body)
    css = [exp.environment.loader.get_source(exp.environment, f'static/{n}.css')[0] for n in ('index', 'theme-light')]
    (out / 'assets' / 'lab.css').write_text('\n'.join(css + list(site.css)), encoding='utf-8')
    for f in ('site.css', 'site.js'): shutil.copy2(HERE / f, out / 'assets' / f)
    (out / 'assets' / 'search-index.js').write_text('window.VIDLAB_SEARCH = ' + json.dumps(site.search, ensure_ascii=False) + ';\n',
                                                   encoding='utf-8')
    site.notes += [f'equation left as LaTeX text (latex2mathml could not parse it): {t[:60]!r}' for t in _mathml.failed]
    return site


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--out', type=Path, required=True, help='the folder to write the site into (created)')
    ap.add_argument('--nbs', type=Path, default=NBS, help='the notebooks to build from (default: nbs/)')
    ap.add_argument('--executed', type=Path, help='executed copies (tools/execute.py --out DIR) that replace their lessons')
    ap.add_argument('--no-api', action='store_true', help='leave out the API page (it imports every vidlab module)')
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    site = build(a.out, a.nbs, api=not a.no_api, executed=a.executed)
    for n in site.notes: print('note:', n)
    for p in site.problems: print('PROBLEM:', p)
    n = len(list(a.out.glob('*.html')))
    size = sum(f.stat().st_size for f in a.out.rglob('*') if f.is_file())
    print(f'{n} pages, {size / 2**20:.1f} MiB in {a.out} ({time.perf_counter() - t0:.1f} s): open {a.out / "index.html"}')
    return 1 if site.problems else 0


if __name__ == '__main__': sys.exit(main())
