"""Every lesson runs top to bottom in a real Jupyter kernel, as a learner runs it.

`nbdev_test` executes notebooks with execnb, which is not a Jupyter kernel: code that only breaks in Jupyter (an
assertion that we are *not* in a notebook, a widget that needs a kernel's comm) passes there. Here each lesson runs
in a fresh ipykernel through nbclient, with the cells flagged `#| slow` left out (their fast variants stay) and cells
flagged `#| eval: false` skipped, exactly as `nbdev_test` skips them.
"""
import re, time
from pathlib import Path
import pytest

nbformat = pytest.importorskip('nbformat')
nbclient = pytest.importorskip('nbclient')

pytestmark = pytest.mark.filterwarnings('ignore::nbformat.warnings.MissingIDFieldWarning')  # nbdev_clean strips ids

NBS = Path(__file__).resolve().parent.parent / 'nbs'
LESSONS = sorted(NBS.glob('[0-9][0-9]_*.ipynb')) + [NBS / 'index.ipynb']
CELL_TIMEOUT_S = 600  # one cell; a lesson's whole run is bounded by the tests' own budget
SKIP = re.compile(r'^\s*#\|\s*(slow\b|eval:\s*false\b)', re.MULTILINE)  # the directives nbdev_test honours


def runnable(nb):
    "The notebook with the cells a test run skips removed: `#| slow` and `#| eval: false`."
    nb.cells = [c for c in nb.cells if not (c.cell_type == 'code' and SKIP.search(c.source))]
    return nb


def test_runnable_drops_slow_and_eval_false():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('#| slow\nx = 1'),
                                         nbformat.v4.new_code_cell('#| eval: false\ny = 2'),
                                         nbformat.v4.new_code_cell('#| export\nz = 3'),
                                         nbformat.v4.new_markdown_cell('#| slow is only text here')])
    assert [c.source for c in runnable(nb).cells] == ['#| export\nz = 3', '#| slow is only text here']


@pytest.mark.parametrize('path', LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_runs_in_a_real_kernel(path):
    nb = runnable(nbformat.read(path, as_version=4))
    client = nbclient.NotebookClient(nb, timeout=CELL_TIMEOUT_S, kernel_name='python3',
                                     resources={'metadata': {'path': str(NBS)}})
    t0 = time.perf_counter()
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as e:  # names the cell and shows the kernel's traceback
        pytest.fail(f'{path.name} failed in a real kernel:\n{e}', pytrace=False)
    print(f'{path.name}: {time.perf_counter() - t0:.1f} s in a real kernel')
