"Reference solutions of the planner lesson's exercises: each check passes them and fails a typical wrong answer."
from vidlab.planner import check_opposite, check_count_scenes, split_clauses, read_clause, plan


def ref_opposite(d): return {'left': 'right', 'right': 'left', 'up': 'down', 'down': 'up'}[d]


def ref_count_scenes(text):
    n, obj = 0, False
    for words in split_clauses(text):
        ev = read_clause(words)
        obj = obj or bool(ev['attrs']) or ev['new']
        n += bool(ev['motion'] or ev['changes'])
    return n or int(obj)


def test_opposite(capsys):
    assert check_opposite(ref_opposite)
    assert not check_opposite(lambda d: d)
    assert 'Not yet' in capsys.readouterr().out


def test_count_scenes(capsys):
    assert check_count_scenes(ref_count_scenes)
    assert not check_count_scenes(lambda t: len(split_clauses(t)))
    assert not check_count_scenes(lambda t: (_ for _ in ()).throw(NotImplementedError()))
    assert 'Not yet' in capsys.readouterr().out
