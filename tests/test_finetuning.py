"Fine-tuning (lesson 21) on tiny models: the opt-in concept, new words, LoRA, adapters, the recipe, resume, bad folders."
import json
from dataclasses import replace
import numpy as np
import pytest
import torch
from torch import nn
from vidlab.data import ShapesWorld, parse_caption, VOCAB, EXTRA_COLOURS
from vidlab.evaluation import prompt_fidelity, degrade, describe_batch
from vidlab.pipeline import TextToVideo, TextToVideoPipeline, TINY, default_model_dir
from vidlab.dit import VideoDiT
from vidlab.finetuning import (write_concept_folder, read_folder, new_words, extend_vocabulary, LoRALinear, add_lora,
                               remove_lora, lora_layers, load_adapter, merge_adapter, unload_adapter, save_merged,
                               FinetuneConfig, finetune, lora_equivalence, concept_prompts, finetune_fidelity, ADAPTER_FILE,
                               LORA_TARGETS)

torch.set_num_threads(1)
FAST = FinetuneConfig(rank=2, steps=3, vae_steps=2, n_replay=16, batch_size=8, vae_batch=4, checkpoint_every=2)


@pytest.fixture(scope='module')
def base_dir(tmp_path_factory):
    "A tiny untrained model folder: every mechanism works on it in seconds."
    d = tmp_path_factory.mktemp('tiny')
    TextToVideo(TINY, seed=0).save_pretrained(d)
    return d


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    return write_concept_folder(tmp_path_factory.mktemp('clips') / 'purple', 6)


def test_concept_is_opt_in():
    assert 'purple' in EXTRA_COLOURS and 'purple' not in VOCAB['colour']
    with pytest.raises(ValueError, match='Allowed words'): parse_caption('a purple circle')
    assert parse_caption('a purple circle', concepts=['purple']) == dict(colour='purple', shape='circle')
    w = ShapesWorld('all')
    v = w.render_batch(concept_prompts('purple', 24), seed=0, concepts=['purple'])['video']
    assert prompt_fidelity(degrade(v, seed=0), concept_prompts('purple', 24), concepts=['purple'])['all'] == 1.0
    assert {d['colour'] for d in describe_batch(v)} <= {'blue', 'magenta'}  # the default evaluator has no purple
    assert w.batch(range(4))['caption'] == ShapesWorld('all').batch(range(4))['caption']


def test_write_and_read_folder(data):
    videos, caps = read_folder(data)
    assert videos.shape == (6, 16, 3, 32, 32) and len(set(caps)) == 6 and all('purple' in c for c in caps)
    with pytest.raises(ValueError, match='new folder'): write_concept_folder(data, 2)


@pytest.mark.parametrize('line, message', [
    ('{"file": "0000.npy", "caption": "  "}', 'captions.jsonl:2 (0000.npy): the caption'),
    ('{"file": "0000.npy", "caption": "a b c d e f g"}', 'captions.jsonl:2 (0000.npy): the caption has 7 words'),
    ('{"file": "junk.npy", "caption": "a purple circle"}', 'captions.jsonl:2 (junk.npy): cannot read the clip'),
    ('{"file": "nan.npy", "caption": "a purple circle"}', 'captions.jsonl:2 (nan.npy): cannot read the clip: video contains NaN'),
    ('{"file": "missing.npy", "caption": "a purple circle"}', 'captions.jsonl:2'),
    ('not json', 'captions.jsonl:2 is not valid JSON')])
def test_bad_folder_names_file_and_line(tmp_path, data, line, message):
    d = tmp_path / 'bad'
    d.mkdir()
    (d / '0000.npy').write_bytes((data / '0000.npy').read_bytes())
    (d / 'junk.npy').write_bytes(b'junk')
    np.save(d / 'nan.npy', np.full((4, 8, 8, 3), np.nan, np.float32))
    (d / 'captions.jsonl').write_text('{"file": "0000.npy", "caption": "a purple circle"}\n' + line + '\n')
    with pytest.raises((ValueError, FileNotFoundError), match=message.replace('(', r'\(').replace(')', r'\)')): read_folder(d)


def test_extend_vocabulary_keeps_old_prompts(base_dir):
    m = TextToVideo.from_pretrained(base_dir, device='cpu')
    tb = m.tokenize(['a small red circle moving left'])
    with torch.no_grad(): before = m.text_states(tb.input_ids, tb.attention_mask)[0]
    rows = m.text_encoder.tok_emb.weight.detach().clone()
    assert new_words(['a purple circle', 'a Purple square!'], m.tokenizer) == ['purple']
    assert extend_vocabulary(m, ['purple']) == [len(rows)]
    assert torch.equal(m.text_encoder.tok_emb.weight[:len(rows)].detach(), rows)
    assert torch.equal(m.tokenize(['a small red circle moving left']).input_ids, tb.input_ids)
    with torch.no_grad(): assert torch.equal(m.text_states(tb.input_ids, tb.attention_mask)[0], before)
    assert m.tokenize(['a purple circle']).unknown == [[]]
    assert extend_vocabulary(m, ['purple']) == []
    with pytest.raises(ValueError, match='init='): extend_vocabulary(m, ['mauve'], init='copy')


def test_lora_layer():
    g = torch.Generator().manual_seed(0)
    lin = nn.Linear(8, 5)
    lo = LoRALinear(lin, 3, alpha=6, generator=g)
    x = torch.randn(4, 8, generator=g)
    assert torch.equal(lo(x), lin(x))  # B = 0
    with torch.no_grad(): lo.B.normal_(generator=g)
    y = lo(x).detach()
    assert torch.allclose(y, (lin(x) + 2.0 * x @ lo.A.T @ lo.B.T).detach(), atol=1e-6)
    w0 = lin.weight.detach().clone()
    lo.merge()
    assert torch.allclose(lo(x).detach(), y, atol=1e-5) and lo.merged
    lo.unmerge()
    assert torch.allclose(lin.weight.detach(), w0, atol=1e-6)
    assert [n for n, p in lo.named_parameters() if p.requires_grad] == ['A', 'B']


def test_add_and_remove_lora(base_dir):
    dit = TextToVideo.from_pretrained(base_dir, device='cpu').transformer
    w = {k: v.clone() for k, v in dit.state_dict().items()}
    names = add_lora(dit, 2)
    assert len(names) == len(dit.blocks) * len(LORA_TARGETS)
    assert all(n.endswith(('.A', '.B')) for n, p in dit.named_parameters() if p.requires_grad)
    with pytest.raises(ValueError, match='already'): add_lora(dit, 2)
    remove_lora(dit)
    assert not lora_layers(dit) and all(torch.equal(v, w[k]) for k, v in dit.state_dict().items())
    with pytest.raises(ValueError, match='unknown target'): add_lora(dit, 2, targets=['nope'])


def test_peft_equivalence(base_dir):
    pytest.importorskip('peft')
    eq = lora_equivalence(TextToVideo.from_pretrained(base_dir, device='cpu').transformer)
    assert eq['max_abs_diff'] < 1e-6 and len(eq['rows']) == len(LORA_TARGETS)


def test_peft_missing_skips(monkeypatch):
    import builtins
    real = builtins.__import__
    def fake(name, *a, **k):
        if name.startswith('peft'): raise ImportError(name)
        return real(name, *a, **k)
    monkeypatch.setattr(builtins, '__import__', fake)
    assert 'skipped' in lora_equivalence(nn.Module())


def test_finetune_lora_adapter_roundtrip(tmp_path, base_dir, data):
    m = finetune(data, tmp_path / 'run', FAST, base=base_dir, progress=False)
    log = m.finetune_log
    assert (log['words'], log['steps'], log['vae_steps'], log['rank']) == (['purple'], 3, 2, 2)
    path = tmp_path / 'run' / ADAPTER_FILE
    assert path.stat().st_size < 0.1 * (base_dir / 'model.safetensors').stat().st_size
    prompts = ['a small purple circle moving left', 'a large red square moving up']
    want = m.generate(prompts, seed=0, num_inference_steps=2)
    pipe = TextToVideoPipeline.from_pretrained(base_dir, device='cpu')
    ref = pipe.model.generate(prompts[1:], seed=0, num_inference_steps=2)
    load_adapter(pipe, path)
    assert torch.equal(pipe.model.generate(prompts, seed=0, num_inference_steps=2), want)
    merge_adapter(pipe)
    assert torch.allclose(pipe.model.generate(prompts, seed=0, num_inference_steps=2), want, atol=1e-4)
    unload_adapter(pipe)
    assert torch.allclose(pipe.model.generate(prompts[1:], seed=0, num_inference_steps=2), ref, atol=1e-4)
    assert pipe.model.tokenizer.token_to_id('purple') is None
    other = TextToVideo(TINY, seed=1)
    with pytest.raises(ValueError, match='another base model'): load_adapter(other, path)
    # resume: the same command again retrains nothing and writes the same adapter
    from vidlab.core import load_safetensors
    before, meta = load_safetensors(path)
    again = finetune(data, tmp_path / 'run', FAST, base=base_dir, progress=False)
    after, meta2 = load_safetensors(path)
    assert again.finetune_log['steps'] == 3 and meta2 == meta and all(torch.equal(after[k], v) for k, v in before.items())
    with pytest.raises(ValueError, match='holds a run with'):
        finetune(data, tmp_path / 'run', replace(FAST, steps=4), base=base_dir, progress=False)


def test_full_finetune_writes_a_model_folder(tmp_path, base_dir, data):
    finetune(data, tmp_path / 'full', replace(FAST, rank=None), base=base_dir, progress=False)
    pipe = TextToVideoPipeline.from_pretrained(tmp_path / 'full', device='cpu')
    assert pipe.model.tokenizer.token_to_id('purple') is not None
    assert pipe('a purple circle', num_inference_steps=2, seed=0).unknown_words == [[]]


@pytest.fixture(scope='module')
def bucketed_dir(tmp_path_factory):
    "A tiny base like the shipped one: several buckets and its own sampler steps (not the config's defaults)."
    d = tmp_path_factory.mktemp('bucketed')
    TextToVideo(replace(TINY, buckets=[[16, 32, 32], [8, 32, 32], [16, 32, 64]], num_inference_steps=12), seed=0).save_pretrained(d)
    return d


def test_fine_tuned_models_keep_the_base_config(tmp_path, bucketed_dir, data):
    "A full fine-tune's folder, an adapter on its base and a merged adapter saved all keep the base's buckets and steps."
    want = json.loads((bucketed_dir / 'config.json').read_text())
    keep = lambda c: (c['buckets'], c['num_inference_steps'], c['guidance_scale'])
    finetune(data, tmp_path / 'full', replace(FAST, rank=None), base=bucketed_dir, progress=False)
    assert keep(json.loads((tmp_path / 'full' / 'config.json').read_text())) == keep(want) == ([[16, 32, 32], [8, 32, 32], [16, 32, 64]], 12, 3.0)
    m = finetune(data, tmp_path / 'lora', FAST, base=bucketed_dir, progress=False)
    pipe = load_adapter(TextToVideoPipeline.from_pretrained(bucketed_dir, device='cpu'), tmp_path / 'lora' / ADAPTER_FILE)
    assert (pipe.config.buckets, pipe.config.num_inference_steps) == (want['buckets'], 12)
    merged = TextToVideoPipeline.from_pretrained(save_merged(pipe, tmp_path / 'merged'), device='cpu')
    assert keep(json.loads((tmp_path / 'merged' / 'config.json').read_text())) == keep(want)
    assert lora_layers(pipe.model.transformer) and not lora_layers(merged.model.transformer)  # the caller's model keeps its adapter
    prompts = ['a small purple circle moving left', 'a large red square moving up']
    for size in ([16, 32, 32], [8, 32, 32]):  # the same videos as the fine-tuned model, at any bucket
        kw = dict(num_frames=size[0], height=size[1], width=size[2], seed=0, num_inference_steps=2)
        assert torch.allclose(merged.model.generate(prompts, **kw), m.generate(prompts, **kw), atol=1e-4)
    with pytest.raises(ValueError, match='no adapter'): save_merged(TextToVideo.from_pretrained(bucketed_dir, device='cpu'), tmp_path / 'x')


def test_resume_on_a_retrained_base_is_refused(tmp_path, data):
    "A run folder remembers its base's weights: the same base folder retrained (as the shipped model was) does not resume it."
    TextToVideo(TINY, seed=0).save_pretrained(tmp_path / 'base')
    finetune(data, tmp_path / 'run', replace(FAST, steps=2), base=tmp_path / 'base', progress=False)
    assert json.loads((tmp_path / 'run' / 'finetune_run.json').read_text())['base_weights']
    TextToVideo(TINY, seed=1).save_pretrained(tmp_path / 'base')  # retrained: same folder, other weights
    with pytest.raises(ValueError, match='base_weights'):
        finetune(data, tmp_path / 'run', replace(FAST, steps=2), base=tmp_path / 'base', progress=False)


def test_from_scratch_keeps_nothing_of_the_base(tmp_path, data):
    "from_scratch starts from a new transformer of the run's seed, tensor for tensor: a trained base's layer norms too."
    base = TextToVideo(TINY, seed=0)
    with torch.no_grad():
        for m in base.transformer.modules():
            if isinstance(m, nn.LayerNorm) and m.elementwise_affine:  # as trained: not 1 and 0
                m.weight.add_(0.5)
                m.bias.add_(0.1)
    base.save_pretrained(tmp_path / 'base')
    cfg = replace(FAST, rank=None, from_scratch=True, lr=0.0, steps=1, vae_steps=0)  # lr 0: the weights stay where they started
    m = finetune(data, None, cfg, base=tmp_path / 'base', seed=5, progress=False)
    fresh = VideoDiT(m.transformer.cfg, seed=5).state_dict()
    assert all(torch.equal(t, fresh[k]) for k, t in m.transformer.state_dict().items())


def test_bad_folder_is_refused_before_any_work(tmp_path, base_dir, data):
    bad = tmp_path / 'bad'
    bad.mkdir()
    (bad / 'captions.jsonl').write_text('{"file": "x.npy", "caption": "a purple circle"}\n')
    with pytest.raises(FileNotFoundError, match='captions.jsonl:1'):
        finetune(bad, tmp_path / 'out', FAST, base=base_dir, progress=False)
    assert not (tmp_path / 'out').exists()


def test_config_is_checked():
    with pytest.raises(ValueError, match='rank=None'): FinetuneConfig(rank=4, from_scratch=True)
    with pytest.raises(ValueError, match='rank must be'): FinetuneConfig(rank=0)
    with pytest.raises(ValueError, match='replay'): FinetuneConfig(replay=1.0)
    assert FinetuneConfig(rank=None).peak_lr < FinetuneConfig().peak_lr


def test_fidelity_measure(base_dir, bucketed_dir):
    r = finetune_fidelity(TextToVideo.from_pretrained(base_dir, device='cpu'), n=2, num_inference_steps=2)
    assert set(r) == {'new', 'old'} and all(0 <= v <= 1 for v in r.values())
    r = finetune_fidelity(TextToVideo.from_pretrained(bucketed_dir, device='cpu'), n=2, num_inference_steps=2, size=(8, 32, 32), kinds=['new'])
    assert set(r) == {'new'}
    with pytest.raises(ValueError, match="allowed are 'new' and 'old'"): finetune_fidelity(None, kinds=['all'])


def test_shipped_figures_meet_the_targets():
    "The figures lesson 21 shows, as benchmarks/finetune.py wrote them (the lesson draws their table and picture)."
    res = json.loads((default_model_dir().parent / 'finetune.json').read_text())
    base_old = res['base']['old']
    lora = [r for r in res['table'] if r['method'].startswith('lora')]
    assert lora and res['curve'] and res['peft'].get('max_abs_diff', 0) < 1e-6
    best = max(lora, key=lambda r: (r['new'], r['old']))
    assert best['new'] >= 0.9 and best['old'] >= 0.95 * base_old  # the targets
    assert all(r['bytes'] <= 0.1 * res['base_bytes'] for r in lora)
    buckets = json.loads((default_model_dir() / 'config.json').read_text())['buckets']
    assert [r['bucket'] for r in res['buckets']] == buckets  # measured on the shipped model's sizes (lesson 21's second table)


def test_add_lora_joint_blocks_takes_the_layers_they_have():
    "By default LoRA adapts the layers a block has: a joint block has no q or cross_proj; naming one is refused."
    from vidlab.dit import DiTConfig
    dit = VideoDiT(DiTConfig(dim=32, heads=2, depth=2, text_dim=32, attention='full', text_attention='joint'), seed=0)
    names = add_lora(dit, 2)
    assert sorted({n.split('.', 2)[2] for n in names}) == sorted(set(LORA_TARGETS) - {'q', 'cross_proj'})
    remove_lora(dit)
    with pytest.raises(ValueError, match="unknown target 'cross_proj'"): add_lora(dit, 2, targets=['cross_proj'])
