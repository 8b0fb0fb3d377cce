"Reference solutions of lesson 22's exercises: each check passes them and fails a typical wrong answer (with a hint)."
import argparse
from vidlab.cli import bounded, check_fps_type, check_add_captions


def fps_type(text):
    try: value = float(text)
    except ValueError: raise argparse.ArgumentTypeError(f'must be a number from 1 to 60, got {text!r}') from None
    if not 1 <= value <= 60: raise argparse.ArgumentTypeError(f'must be a number from 1 to 60, got {text!r}')  # nan fails too
    return value


def fps_without_range_check(text): return float(text)


def fps_wrong_exception(text):
    value = float(text)
    if not 1 <= value <= 60: raise ValueError('from 1 to 60')
    return value


def add_captions(sub):
    def cmd(args):
        from vidlab.data import ShapesWorld
        world = ShapesWorld(seed=args.seed)
        for i in range(args.n): print(world[i]['caption'])
    c = sub.add_parser('captions', help='print captions of the shapes world')
    c.add_argument('--n', type=bounded(int, 1, 100), default=5)
    c.add_argument('--seed', type=int, default=0)
    c.set_defaults(func=cmd)


def add_captions_ignoring_seed(sub):
    def cmd(args):
        from vidlab.data import ShapesWorld
        for i in range(args.n): print(ShapesWorld()[i]['caption'])
    c = sub.add_parser('captions')
    c.add_argument('--n', type=bounded(int, 1, 100), default=5)
    c.add_argument('--seed', type=int, default=0)
    c.set_defaults(func=cmd)


def add_captions_unchecked_n(sub):
    def cmd(args):
        from vidlab.data import ShapesWorld
        for i in range(args.n): print(ShapesWorld(seed=args.seed)[i]['caption'])
    c = sub.add_parser('captions')
    c.add_argument('--n', type=int, default=5)
    c.add_argument('--seed', type=int, default=0)
    c.set_defaults(func=cmd)


def stub(*args): raise NotImplementedError


def test_fps_type(capsys):
    assert check_fps_type(fps_type) is True
    assert 'Correct' in capsys.readouterr().out
    for wrong, hint in [(fps_without_range_check, 'should be refused'), (fps_wrong_exception, 'ArgumentTypeError'),
                        (stub, 'Fill in the function first')]:
        assert check_fps_type(wrong) is False
        out = capsys.readouterr().out
        assert out.startswith('Not yet: fps_type.') and hint in out, out


def test_add_captions(capsys):
    assert check_add_captions(add_captions) is True
    assert 'Correct' in capsys.readouterr().out
    for wrong, hint in [(add_captions_ignoring_seed, 'It printed'), (add_captions_unchecked_n, 'from 1 to 100'),
                        (stub, 'Fill in the function first')]:
        assert check_add_captions(wrong) is False
        out = capsys.readouterr().out
        assert out.startswith('Not yet: add_captions.') and hint in out, out
