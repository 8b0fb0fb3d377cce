"Property tests for the text encoder: random sizes and paddings, exact against transformers and torch."
import pytest, torch
import torch.nn.functional as F
from hypothesis import given, settings, strategies as st
from transformers import BertConfig, BertModel, CLIPTextConfig, CLIPTextModel
from vidlab.text_encoder import (TextEncoder, TextEncoderConfig, attention, from_hf_bert, from_hf_clip,
                                 MultiHeadAttention)

TOL = 1e-5


def scramble(model, seed):
    "Random parameters of a sensible scale (LayerNorm gains near 1), so a wiring mistake cannot hide."
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            r = torch.randn(p.shape, generator=g)
            p.copy_(1 + 0.2 * r if 'norm' in name.lower() and name.endswith('weight') else 0.3 * r)
    return model.eval()


def batch(vocab, lengths, max_len, seed, bos, eos):
    "Right-padded ids `<bos> ... <eos> <pad>...` (pad = 0) and their mask."
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(1, vocab - 2, (len(lengths), max_len), generator=g)
    mask = (torch.arange(max_len)[None] < torch.tensor(lengths)[:, None]).long()
    ids[:, 0] = bos
    ids[torch.arange(len(lengths)), torch.tensor(lengths) - 1] = eos
    return ids * mask, mask


sizes = st.fixed_dictionaries(dict(heads=st.sampled_from([1, 2, 4]), head_dim=st.sampled_from([4, 8]),
                                   layers=st.integers(1, 3), ff=st.sampled_from([16, 48])))
lengths = st.lists(st.integers(2, 10), min_size=1, max_size=4)


def hf_kwargs(s, vocab=61, max_len=10):
    return dict(vocab_size=vocab, hidden_size=s['heads'] * s['head_dim'], num_hidden_layers=s['layers'],
                num_attention_heads=s['heads'], intermediate_size=s['ff'], max_position_embeddings=max_len,
                attn_implementation='eager')


def max_diffs(ours, theirs, ids, mask):
    with torch.no_grad():
        a, b = ours(ids, mask), theirs(input_ids=ids, attention_mask=mask)
    return ((a.last_hidden_state - b.last_hidden_state).abs().max().item(),
            (a.pooler_output - b.pooler_output).abs().max().item())


@settings(max_examples=8, deadline=None)
@given(s=sizes, ls=lengths, seed=st.integers(0, 1000), act=st.sampled_from(['gelu', 'gelu_new']))
def test_bert_equivalence(s, ls, seed, act):
    hf = scramble(BertModel(BertConfig(**hf_kwargs(s), hidden_act=act)), seed)
    ids, mask = batch(61, ls, max(ls), seed, 59, 60)
    assert max(max_diffs(from_hf_bert(hf), hf, ids, mask)) < TOL


@settings(max_examples=8, deadline=None)
@given(s=sizes, ls=lengths, seed=st.integers(0, 1000), legacy=st.booleans())
def test_clip_equivalence(s, ls, seed, legacy):
    hf = scramble(CLIPTextModel(CLIPTextConfig(**hf_kwargs(s), bos_token_id=59, eos_token_id=2 if legacy else 60,
                                               pad_token_id=0)), seed)
    ids, mask = batch(61, ls, max(ls), seed, 59, 60)
    assert max(max_diffs(from_hf_clip(hf), hf, ids, mask)) < TOL


@settings(max_examples=20, deadline=None)
@given(lq=st.integers(1, 7), lk=st.integers(1, 7), causal=st.booleans(), seed=st.integers(0, 1000))
def test_attention_matches_sdpa(lq, lk, causal, seed):
    "Cross-attention shapes (l_q != l_k), padding masks with at least one visible key per row, causal or not."
    g = torch.Generator().manual_seed(seed)
    q, k, v = torch.randn(2, 3, lq, 8, generator=g), torch.randn(2, 3, lk, 8, generator=g), torch.randn(2, 3, lk, 5, generator=g)
    mask = torch.rand(2, lk, generator=g) > 0.4
    mask[:, 0] = True  # key 0 is visible to every query, causal or not
    keep = mask[:, None, None, :] & (torch.ones(lq, lk, dtype=torch.bool).tril() if causal else True)
    out, w = attention(q, k, v, mask=mask, causal=causal, return_weights=True)
    assert (out - F.scaled_dot_product_attention(q, k, v, attn_mask=keep)).abs().max() < 1e-6
    assert torch.all(w.masked_select(~keep.expand_as(w)) == 0)  # nobody reads a hidden key


def test_padding_never_matters():
    "A prompt's states do not depend on how much padding its batch has, in every architecture."
    for cfg in [TextEncoderConfig(vocab_size=20, max_len=12), TextEncoderConfig(vocab_size=20, max_len=12, norm_first=False, pooling='first'),
                TextEncoderConfig(vocab_size=20, max_len=12, causal=True, pos_emb='sinusoidal')]:
        enc = TextEncoder(cfg, seed=0).eval()
        ids = torch.tensor([[1, 5, 6, 7, 2]])
        padded = torch.cat([ids, torch.zeros(1, 7, dtype=torch.long)], 1)
        mask = (padded != 0).long()
        with torch.no_grad(): a, b = enc(ids), enc(padded, mask)
        assert (a.last_hidden_state - b.last_hidden_state[:, :5]).abs().max() < 1e-5
        assert (a.pooler_output - b.pooler_output).abs().max() < 1e-5


def test_save_load_and_errors(tmp_path):
    enc = TextEncoder(TextEncoderConfig(vocab_size=20, pos_emb='sinusoidal'), seed=3)
    p = enc.save(tmp_path / 'te.safetensors')
    back = TextEncoder.load(p)
    assert back.cfg == enc.cfg
    ids = torch.tensor([[1, 4, 2, 0]])
    assert torch.equal(back(ids, (ids != 0).long()).pooler_output, enc.eval()(ids, (ids != 0).long()).pooler_output)
    with pytest.raises(ValueError, match='vocab_size'): enc(torch.tensor([[1, 25, 2]]))
    with pytest.raises(ValueError, match='needs eos_token_id'): enc(torch.tensor([[1, 4, 5]]))
    with pytest.raises(ValueError, match='multiple of n_heads'): TextEncoderConfig(d_model=30, n_heads=4)
    with pytest.raises(ValueError, match='multiple of n_heads'): MultiHeadAttention(30, 4)


def test_gradients_reach_every_parameter():
    enc = TextEncoder(TextEncoderConfig(vocab_size=20, pooling='first', norm_first=False), seed=0)
    ids = torch.tensor([[1, 4, 5, 2], [1, 6, 2, 0]])
    enc(ids, (ids != 0).long()).pooler_output.sum().backward()
    missing = [n for n, p in enc.named_parameters() if p.grad is None]
    assert not missing, missing


def test_attention_widget_shows_a_png():
    "The widget's picture goes through vidlab.core's one figure->image->PNG path."
    from vidlab.tokenizer import caption_tokenizer
    from vidlab.text_encoder import attention_widget
    tok = caption_tokenizer()
    enc = TextEncoder(TextEncoderConfig(vocab_size=tok.vocab_size, max_len=16, eos_token_id=tok.eos_token_id), seed=0).eval()
    w = attention_widget(enc, tok, 'the red circle')
    assert w.image.value[:8] == b'\x89PNG\r\n\x1a\n'
    assert w.tokens == ['<bos>', 'the', 'red', 'circle', '<eos>']  # 'the' is known to the caption tokenizer
