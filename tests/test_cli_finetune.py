"`vidlab finetune` and `vidlab generate --lora` as a user runs them: the installed console script, in a fresh process."
import json, shutil, subprocess
import numpy as np
import pytest


def run(*args):
    exe = shutil.which('vidlab')
    assert exe, 'the vidlab console script is not installed: pip install -e .'
    return subprocess.run([exe, *args], capture_output=True, text=True)


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    "A tiny model folder and a folder of purple clips (fast to fine-tune)."
    from vidlab.pipeline import TextToVideo, TINY
    from vidlab.finetuning import write_concept_folder
    root = tmp_path_factory.mktemp('cli')
    TextToVideo(TINY, seed=0).save_pretrained(root / 'base')
    return root / 'base', write_concept_folder(root / 'clips', 4)


def test_finetune_lora_then_generate(tmp_path, tiny):
    base, clips = tiny
    r = run('finetune', '--data', str(clips), '--out', str(tmp_path / 'ft'), '--lora', '2', '--steps', '2', '--model', str(base))
    assert r.returncode == 0, r.stderr
    adapter = tmp_path / 'ft' / 'adapter.safetensors'
    assert adapter.exists() and 'new words: purple' in r.stdout and '--lora' in r.stdout
    r = run('generate', 'a small purple circle moving left', '--model', str(base), '--lora', str(adapter),
            '-o', str(tmp_path / 'p.npy'), '--steps', '2')
    assert r.returncode == 0 and 'unknown words' not in r.stderr, r.stderr
    assert np.load(tmp_path / 'p.npy').shape[:3] == (16, 32, 32)
    # the same command again resumes from the checkpoints: nothing is retrained, the result is kept
    r = run('finetune', '--data', str(clips), '--out', str(tmp_path / 'ft'), '--lora', '2', '--steps', '2', '--model', str(base))
    assert r.returncode == 0 and adapter.exists(), r.stderr
    r = run('finetune', '--data', str(clips), '--out', str(tmp_path / 'ft'), '--lora', '2', '--steps', '3', '--model', str(base))
    assert r.returncode == 2 and 'holds a run with' in r.stderr and r.stderr.count('\n') == 1


def test_finetune_full_writes_a_model(tmp_path, tiny):
    base, clips = tiny
    r = run('finetune', '--data', str(clips), '--out', str(tmp_path / 'full'), '--steps', '2', '--model', str(base))
    assert r.returncode == 0, r.stderr
    r = run('generate', 'a purple square', '--model', str(tmp_path / 'full'), '-o', str(tmp_path / 'c.npy'), '--steps', '2')
    assert r.returncode == 0 and 'unknown words' not in r.stderr, r.stderr


def test_bad_folder_one_line_naming_file_and_line(tmp_path, tiny):
    base, clips = tiny
    bad = tmp_path / 'bad'
    shutil.copytree(clips, bad)
    lines = (bad / 'captions.jsonl').read_text().splitlines()
    lines[2] = json.dumps(dict(file=json.loads(lines[2])['file'], caption=''))
    (bad / 'captions.jsonl').write_text('\n'.join(lines) + '\n')
    r = run('finetune', '--data', str(bad), '--out', str(tmp_path / 'out'), '--lora', '2', '--model', str(base))
    assert r.returncode == 2 and 'captions.jsonl:3 (0002.npy)' in r.stderr and r.stderr.count('\n') == 1, r.stderr
    assert not (tmp_path / 'out').exists()  # nothing written before the check


def test_bad_arguments(tmp_path, tiny):
    base, clips = tiny
    r = run('finetune', '--data', str(clips), '--out', str(tmp_path / 'o'), '--lora', '0')
    assert r.returncode == 2 and 'from 1 to 64' in r.stderr
    r = run('finetune', '--out', str(tmp_path / 'o'))
    assert r.returncode == 2 and '--data' in r.stderr
    r = run('generate', 'a red circle', '--lora', str(tmp_path / 'none.safetensors'), '-o', str(tmp_path / 'c.npy'))
    assert r.returncode == 2 and 'none.safetensors' in r.stderr
