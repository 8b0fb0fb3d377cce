"Reference solutions of lesson 03's exercises: each check passes them, and rejects a typical wrong answer with a hint."
from collections import Counter
import torch
from vidlab.tokenizer import check_merge_step, check_segment, check_pad_batch


def merge_word(symbols, pair):
    out, i = [], 0
    while i < len(symbols):
        if i + 1 < len(symbols) and (symbols[i], symbols[i + 1]) == pair: out.append(symbols[i] + symbols[i + 1]); i += 2
        else: out.append(symbols[i]); i += 1
    return out


def merge_step(counts, segmentation):
    pairs = Counter()
    for w, n in counts.items():
        for p in zip(segmentation[w], segmentation[w][1:]): pairs[p] += n
    best = max(pairs, key=pairs.get)
    return best, {w: merge_word(s, best) for w, s in segmentation.items()}


def segment(word, merges):
    pieces = list(word)
    for pair in merges: pieces = merge_word(pieces, pair)
    return pieces


def pad_batch(rows, pad_id, max_length):
    length = max_length if max_length is not None else max(len(r) for r in rows)
    ids = torch.full((len(rows), length), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), length), dtype=torch.long)
    for i, r in enumerate(rows): ids[i, :len(r)] = torch.tensor(r); mask[i, :len(r)] = 1
    return ids, mask


def unfinished(*args): raise NotImplementedError  # the cell as the learner finds it


def test_merge_step(capsys):
    assert check_merge_step(merge_step) is True
    assert 'Correct: merge_step' in capsys.readouterr().out
    unweighted = lambda counts, seg: merge_step(dict.fromkeys(counts, 1), seg)  # forgets the word counts
    assert check_merge_step(unweighted) is False
    assert 'weighted by word counts' in capsys.readouterr().out
    def overlapping(counts, seg):  # merges every occurrence, overlaps included: a a a -> aa aa
        pair, _ = merge_step(counts, seg)
        return pair, {w: [a + b if (a, b) == pair else a for a, b in zip(s, s[1:] + [''])] for w, s in seg.items()}
    assert check_merge_step(overlapping) is False
    assert 'segmentation after merging' in capsys.readouterr().out
    assert check_merge_step(unfinished) is False
    assert 'NotImplementedError' in capsys.readouterr().out


def test_segment(capsys):
    assert check_segment(segment) is True
    assert 'Correct: segment' in capsys.readouterr().out
    assert check_segment(lambda word, merges: segment(word, merges[::-1])) is False  # the latest merges first
    assert 'in the order they were learned' in capsys.readouterr().out
    assert check_segment(lambda word, merges: 3) is False  # not a list: a hint, not a crash
    assert 'Not yet: segment' in capsys.readouterr().out


def test_pad_batch(capsys):
    assert check_pad_batch(pad_batch) is True
    assert 'Correct: pad_batch' in capsys.readouterr().out
    assert check_pad_batch(lambda rows, pad_id, max_length: pad_batch(rows, pad_id, None)) is False  # ignores max_length
    assert 'the shape should be (3, 10)' in capsys.readouterr().out
    all_ones = lambda rows, pad_id, max_length: (pad_batch(rows, pad_id, max_length)[0], torch.ones(3, 8, dtype=torch.long))
    assert check_pad_batch(all_ones) is False  # the mask marks padding as real
    assert 'attention_mask is 1 on every real token' in capsys.readouterr().out
    assert check_pad_batch(unfinished) is False
    assert 'NotImplementedError' in capsys.readouterr().out
