"Pages without a kernel (lesson 23): widget snapshots and the static scrubber, which tools/site.py and tools/execute.py rely on."
import numpy as np, pytest
from vidlab.core import png_bytes
from vidlab.pages import Scrubber, widget_snapshot, with_snapshot, snapshot_widgets


def _frames(n=3, h=4, w=6):
    return [np.full((h, w, 3), i / max(n - 1, 1), np.float32) for i in range(n)]


def test_scrubber_contract():
    "The browser tests' contract: one range input `.vidlab-scrubber` and one `img.vidlab-scrubber-frame`, all data inline."
    page = Scrubber(_frames(), labels=['a', 'b', 'c'], title='t <b>', scale=3, start=1).html()
    assert page.count('<input type="range" class="vidlab-scrubber"') == 1 and page.count('<img class="vidlab-scrubber-frame"') == 1
    assert 'max="2"' in page and 'value="1"' in page and 'width="18" height="12"' in page
    assert 't &lt;b&gt;' in page  # the title is escaped
    assert 'http' not in page  # nothing to fetch
    assert repr(Scrubber(_frames(), title='x')).startswith('Scrubber: 3 pictures of 6x4 px')


@pytest.mark.parametrize('kwargs,msg', [(dict(frames=[]), 'at least one frame'),
                                        (dict(frames=_frames()[:1] + _frames(h=5)[:1]), 'same shape'),
                                        (dict(frames=_frames(), labels=['x']), 'one label per frame'),
                                        (dict(frames=_frames(), start=3), 'start must be in 0..2'),
                                        (dict(frames=_frames(), scale=0), 'scale must be')])
def test_scrubber_bad_input(kwargs, msg):
    with pytest.raises(ValueError, match=msg): Scrubber(**kwargs)


def test_widget_snapshot_and_bundle():
    W = pytest.importorskip('ipywidgets')
    img = np.zeros((10, 20, 3), np.float32); img[2:5, 3:9] = 1
    hidden = W.Label('hidden'); hidden.layout.display = 'none'
    box = W.VBox([W.HBox([W.Dropdown(options=[('one', 1), ('two', 2)], value=2, description='pick'),
                          W.FloatSlider(0.25, description='x')]), hidden, W.Image(value=png_bytes(img), format='png')])
    snap = widget_snapshot(box)
    assert snap.dtype == np.float32 and snap.shape[0] >= 10 + 18 and snap.shape[1] >= 20
    assert (snap[-14:-4, 4:24] == img).all()  # the image, pixel for pixel, at the bottom left inside the margin
    data = with_snapshot(box, 'Demo')._repr_mimebundle_()
    assert data['text/plain'] == 'Demo: run the notebook to use it' and data['image/png'][:8] == 'iVBORw0K'  # base64 of a PNG header
    assert snapshot_widgets() is False  # outside IPython there is nothing to switch on
