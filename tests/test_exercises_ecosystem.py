"Reference solutions of lesson 19's exercises (off the reader's path): each check passes them and fails a wrong answer."
import json
from vidlab.ecosystem import check_parts, check_heun_pipeline, to_diffusers, scheduler_by_name


def parts(folder):
    index = json.loads((folder / 'model_index.json').read_text())
    return {k: v[1] for k, v in index.items() if isinstance(v, list) and len(v) == 2}


def heun_pipeline(model):
    pipe = to_diffusers(model)
    pipe.scheduler = scheduler_by_name(model, 'FlowMatchHeunDiscreteScheduler')
    return pipe


def test_parts(capsys):
    assert check_parts(parts)
    assert not check_parts(lambda folder: json.loads((folder / 'model_index.json').read_text()))
    assert 'Not yet' in capsys.readouterr().out


def test_heun_pipeline(capsys):
    assert check_heun_pipeline(heun_pipeline)
    assert not check_heun_pipeline(to_diffusers)
    assert 'FlowMatchEulerDiscreteScheduler' in capsys.readouterr().out
