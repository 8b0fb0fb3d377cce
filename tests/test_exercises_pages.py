"Reference solutions of lesson 23's exercises: each check passes them, and rejects a typical wrong answer with a hint."
import base64
from vidlab.core import png_bytes
from vidlab.pages import check_data_uri, check_stack


def data_uri(img):
    return 'data:image/png;base64,' + base64.b64encode(png_bytes(img)).decode()


def stack(sizes, across, gap=6):
    positions, at = [], 0
    for w, h in sizes:
        positions.append((at, 0) if across else (0, at))
        at += (w if across else h) + gap
    deep = max(h if across else w for w, h in sizes)
    return (at - gap, deep, positions) if across else (deep, at - gap, positions)


def unfinished(*args): raise NotImplementedError  # the cell as the learner finds it


def test_data_uri(verdicts):
    verdicts.accepted(check_data_uri, data_uri)
    verdicts.rejected(check_data_uri, lambda img: base64.b64encode(png_bytes(img)), 'return a str')  # bytes, not decoded
    verdicts.rejected(check_data_uri, lambda img: data_uri(img)[len('data:image/png;base64,'):], 'start with')  # no prefix
    verdicts.rejected(check_data_uri, lambda img: 'data:image/png;base64,' + base64.b64encode(img.tobytes()).decode(),
                      'not the raw pixels')
    verdicts.rejected(check_data_uri, lambda img: data_uri(img.transpose(1, 0, 2)), 'encode it as it is')  # width and height swapped
    verdicts.rejected(check_data_uri, lambda img: data_uri(1 - img), 'other colours')
    verdicts.rejected(check_data_uri, unfinished, 'NotImplementedError')


def test_stack(verdicts):
    verdicts.accepted(check_stack, stack)
    verdicts.rejected(check_stack, lambda sizes, across: stack(sizes, across, gap=0), '6 pixels between neighbours')
    verdicts.rejected(check_stack, lambda sizes, across: stack(sizes, not across), 'left to right')  # an HBox stacked down
    def sizes_wrong(sizes, across):
        w, h, pos = stack(sizes, across)
        return w + 6, h, pos  # a gap after the last child too
    verdicts.rejected(check_stack, sizes_wrong, 'the box ends where its last child ends')
    verdicts.rejected(check_stack, lambda sizes, across: [0, 0], 'return (width, height, positions)')
    verdicts.rejected(check_stack, unfinished, 'NotImplementedError')
