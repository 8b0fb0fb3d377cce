"The storyboard planner beyond the notebook's examples: generated narratives, identity, errors, the list contract."
import random
import pytest
from vidlab.data import parse_caption, VOCAB
from vidlab.planner import plan, Storyboard, split_clauses, scene_caption, word_role


def test_storyboard_is_a_list_of_str():
    sb = plan('a small red circle moves left, then turns and moves up')
    assert isinstance(sb, list) and all(type(c) is str for c in sb)
    assert sb == ['a small red circle moving left', 'a small red circle moving up']
    assert sb.narrative.startswith('a small red circle')


@pytest.mark.parametrize('seed', range(5))
def test_identity_carried(seed):
    rng = random.Random(seed)
    a = {k: rng.choice(VOCAB[k]) for k in ('size', 'colour', 'shape')}
    dirs = [rng.choice(VOCAB['direction']) for _ in range(4)]
    text = f"a {a['size']} {a['colour']} {a['shape']} moves {dirs[0]}" + ''.join(f', then it goes {d}' for d in dirs[1:])
    sb = plan(text)
    assert [s['direction'] for s in sb.scenes] == dirs
    for s in sb.scenes: assert {k: s[k] for k in a} == a


def test_back_and_changes():
    assert plan('a blue box slides up, then comes back') == ['a blue square moving up', 'a blue square moving down']
    assert plan('a circle goes left and turns orange') == ['a circle moving left', 'a orange circle moving left']


@pytest.mark.parametrize('text,needle', [('a red circle zooms left', "'zooms'"), ('it moves up', 'none was introduced'),
                                         ('a red circle moves left then the triangle moves up', "'triangle'"),
                                         ('a red green circle moves up', 'two colours'), ('a circle comes back', "'back'")])
def test_errors_name_the_problem(text, needle):
    with pytest.raises(ValueError, match=needle): plan(text)


def test_captions_parse_back():
    sb = plan('there is a large white triangle; it floats downwards. then a small cyan ball rolls right and grows')
    assert [parse_caption(c) for c in sb] == sb.scenes
    assert len(split_clauses('a, b; c. d then e and f')) == 6
    assert word_role('.') == ('sep', '.')
    with pytest.raises(ValueError): scene_caption(dict(colour='pink'))
