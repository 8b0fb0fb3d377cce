"""Equivalence figures of vidlab.text_encoder against transformers and torch (the numbers quoted in lesson 04).

    python benchmarks/text_encoder.py

Tiny randomly initialised BertModel and CLIPTextModel (3 layers, width 32, 4 heads, vocab 99, 12 positions, parameters
scrambled), a padded batch of 4 prompts of 12, 7, 3 and 9 tokens; max abs differences over all positions.
"""
import torch
import torch.nn.functional as F
from dataclasses import replace
from transformers import BertConfig, BertModel, CLIPTextConfig, CLIPTextModel
from vidlab.text_encoder import TextEncoder, attention, from_hf_bert, from_hf_clip

torch.set_num_threads(1)
V, L = 99, 12
SMALL = dict(vocab_size=V, hidden_size=32, num_hidden_layers=3, num_attention_heads=4, intermediate_size=64,
             max_position_embeddings=L, attn_implementation='eager')


def scramble(model, seed=0):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            r = torch.randn(p.shape, generator=g)
            p.copy_(1 + 0.2 * r if 'norm' in name.lower() and name.endswith('weight') else 0.3 * r)
    return model.eval()


def rewire(enc):
    "The same weights in the other LayerNorm order."
    other = TextEncoder(replace(enc.cfg, norm_first=not enc.cfg.norm_first))
    src, dst = ('final_norm', 'emb_norm') if enc.cfg.norm_first else ('emb_norm', 'final_norm')
    other.load_state_dict({k.replace(src, dst): v for k, v in enc.state_dict().items()}, strict=True)
    return other.eval()


def diffs(ours, theirs, ids, mask):
    with torch.no_grad():
        a, b = ours(ids, mask), theirs(input_ids=ids, attention_mask=mask)
    return ((a.last_hidden_state - b.last_hidden_state).abs().max().item(), (a.pooler_output - b.pooler_output).abs().max().item())


def main():
    g = torch.Generator().manual_seed(1)
    lengths = torch.tensor([L, 7, 3, 9])
    ids = torch.randint(1, V - 2, (len(lengths), L), generator=g)
    mask = (torch.arange(L)[None] < lengths[:, None]).long()
    ids[:, 0] = V - 2
    ids[torch.arange(len(lengths)), lengths - 1] = V - 1
    ids = ids * mask
    hf_bert = scramble(BertModel(BertConfig(**SMALL)))
    hf_clip = scramble(CLIPTextModel(CLIPTextConfig(**SMALL, bos_token_id=V - 2, eos_token_id=V - 1, pad_token_id=0)))
    hf_legacy = scramble(CLIPTextModel(CLIPTextConfig(**SMALL, bos_token_id=V - 2, eos_token_id=2, pad_token_id=0)), seed=3)
    rows = [('BERT (post-LN)', diffs(from_hf_bert(hf_bert), hf_bert, ids, mask)),
            ('CLIP (pre-LN, causal)', diffs(from_hf_clip(hf_clip), hf_clip, ids, mask)),
            ('CLIP legacy eos=2 (argmax pooling)', diffs(from_hf_clip(hf_legacy), hf_legacy, ids, mask)),
            ('BERT weights, pre-LN wiring (wrong)', diffs(rewire(from_hf_bert(hf_bert)), hf_bert, ids, mask)),
            ('CLIP weights, post-LN wiring (wrong)', diffs(rewire(from_hf_clip(hf_clip)), hf_clip, ids, mask))]
    print(f"{'model':40s} {'hidden':>10s} {'pooled':>10s}")
    for name, (h, p) in rows: print(f'{name:40s} {h:10.2e} {p:10.2e}')
    q, k, v = (torch.randn(2, 3, 5, 8, generator=g) for _ in range(3))
    pad = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]]).bool()
    tri = torch.ones(5, 5, dtype=torch.bool).tril()
    for name, m, c, keep in [('none', None, False, None), ('padding', pad, False, pad[:, None, None]),
                             ('causal', None, True, tri), ('padding+causal', pad, True, pad[:, None, None] & tri)]:
        d = (attention(q, k, v, mask=m, causal=c) - F.scaled_dot_product_attention(q, k, v, attn_mask=keep)).abs().max().item()
        print(f'attention vs sdpa, mask {name:28s} {d:10.2e}')


if __name__ == '__main__': main()
