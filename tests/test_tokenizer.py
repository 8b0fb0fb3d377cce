"vidlab.tokenizer beyond the notebook: BPE equals tokenizers' BpeTrainer on random corpora, and the interface rules."
import json, warnings
import pytest, torch
from hypothesis import given, settings, strategies as st, HealthCheck
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers, processors, Regex
from transformers import PreTrainedTokenizerFast
from vidlab.tokenizer import (BPETokenizer, HFTokenizer, SPECIAL_TOKENS, PUNCTUATION, BOS, EOS, PAD, UNK, train_bpe,
                              word_counts, caption_tokenizer, caption_corpus, prose_corpus, prompt_widget, merges_widget)

N_EXAMPLES = 300  # random corpora in the property test
# lower and upper case, an accent, a Greek capital (lower-cased per character), digits, punctuation, white space;
# letters repeat so that words share pairs and the merges interact
ALPHABET = 'abcdeabcdeABCé' + 'Σ' + '01' + ",.!-'_" + '   \n\t'


def hf_bpe(texts, vocab_size, min_frequency=0):
    "tokenizers' BPE trained with BpeTrainer on `texts`, with vidlab's normaliser, pre-tokenizer and <bos>/<eos> template."
    tok = Tokenizer(models.BPE(unk_token=UNK))
    tok.normalizer = normalizers.Sequence([normalizers.Lowercase(), normalizers.Replace(Regex(PUNCTUATION), ' ')])
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=min_frequency,
                                                       special_tokens=list(SPECIAL_TOKENS), show_progress=False))
    tok.post_processor = processors.TemplateProcessing(single=f'{BOS} $A {EOS}', special_tokens=[(BOS, 1), (EOS, 2)])
    return tok


texts = st.text(alphabet=ALPHABET, max_size=60)  # any text
SEPARATORS = (' ', ' ', ', ', '! ', '\n', '-', "'")  # what may stand between two words


@st.composite
def corpora(draw):
    "Texts built from a few random words, so that words repeat and BPE learns many merges (and some plain random text)."
    words = draw(st.lists(st.text(alphabet='abcdeabcAé', min_size=2, max_size=7), min_size=1, max_size=6))
    def sentence():
        picked = draw(st.lists(st.sampled_from(words), min_size=1, max_size=12))
        return ''.join(w + draw(st.sampled_from(SEPARATORS)) for w in picked)
    return [sentence() for _ in range(draw(st.integers(1, 6)))] + draw(st.lists(texts, max_size=2))


probes = st.lists(st.one_of(texts, st.sampled_from(['', '<unk>', 'a<eos>b', 'zz?', 'ÉΣ'])), min_size=1, max_size=4)


@settings(max_examples=N_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(corpus=corpora(), room=st.integers(1, 80), min_frequency=st.integers(0, 4), extra=probes)
def test_bpe_equals_tokenizers(tmp_path_factory, corpus, room, min_frequency, extra):
    n_base = len(SPECIAL_TOKENS) + len({c for w in word_counts(corpus) for c in w})  # specials + alphabet
    vocab_size = n_base + room  # room for up to 80 merges
    hf = hf_bpe(corpus, vocab_size, min_frequency)
    model = json.loads(hf.to_str())['model']
    vocab, merges = train_bpe(word_counts(corpus), vocab_size, min_frequency)
    assert vocab == model['vocab']  # identical ids
    assert merges == [tuple(m) for m in model['merges']]  # identical merges in identical order
    ours = BPETokenizer(vocab, merges)
    prompts = corpus + extra
    expected = [hf.encode(p).ids for p in prompts]
    batch = ours.encode(prompts)
    assert [row[:int(m.sum())].tolist() for row, m in zip(batch.input_ids, batch.attention_mask)] == expected
    # our tokenizer.json is read by tokenizers, encodes the same, and wrapped gives the same TokenBatch
    theirs = Tokenizer.from_file(str(ours.save(tmp_path_factory.mktemp('tok'))))
    assert [theirs.encode(p).ids for p in prompts] == expected
    for max_length in (None, 5):
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            a, b = ours.encode(prompts, max_length), HFTokenizer(theirs).encode(prompts, max_length)
        assert torch.equal(a.input_ids, b.input_ids) and torch.equal(a.attention_mask, b.attention_mask)
        assert a.unknown == b.unknown


@pytest.mark.parametrize('vocab_size', [0, 3, 4, 8, 9, 10])
def test_vocab_smaller_than_alphabet(vocab_size):
    "Specials and the whole alphabet are always kept, whatever vocab_size says; merges only fill the room left."
    corpus = ['abcd abcd ab', 'Dab, bad!']
    model = json.loads(hf_bpe(corpus, vocab_size).to_str())['model']
    vocab, merges = train_bpe(word_counts(corpus), vocab_size)
    assert vocab == model['vocab'] and merges == [tuple(m) for m in model['merges']]
    assert len(vocab) == max(8, vocab_size)


@pytest.mark.parametrize('corpus,size', [('captions', 1000), ('prose', 300), ('prose', 120)])
def test_lesson_corpora(corpus, size):
    texts = caption_corpus() if corpus == 'captions' else prose_corpus()
    model = json.loads(hf_bpe(texts, size).to_str())['model']
    vocab, merges = train_bpe(word_counts(texts), size)
    assert vocab == model['vocab'] and merges == [tuple(m) for m in model['merges']]


def test_caption_tokenizer():
    tok = caption_tokenizer()
    b = tok.encode(['A small RED circle, moving left!', 'a small red circle moving left', 'the purple star', ''],
                   max_length=8)
    assert torch.equal(b.input_ids[0], b.input_ids[1])
    assert tok.tokens(b.input_ids[0]) == [BOS, 'a', 'small', 'red', 'circle', 'moving', 'left', EOS]
    assert b.unknown == [[], [], ['purple', 'star'], []]  # 'the' is a filler word the tokenizer knows
    assert b.input_ids[3].tolist() == [tok.bos_token_id, tok.eos_token_id] + [tok.pad_token_id] * 6
    assert b.attention_mask[3].tolist() == [1, 1] + [0] * 6
    all_ids = tok.encode(caption_corpus()).input_ids
    assert all_ids.shape == (192, 8) and (all_ids != tok.unk_token_id).all()
    assert caption_tokenizer().vocab == tok.vocab  # deterministic
    assert tok.decode(all_ids) == caption_corpus()


def test_caption_tokenizer_knows_every_filler_word():
    "The filler words of the shapes world ('a', 'an', 'the', 'moving') are single tokens, never <unk>."
    from vidlab.data import FILLER
    tok = caption_tokenizer()
    b = tok.encode(['the large red circle', 'an orange square moving up', ' '.join(FILLER)])
    assert b.unknown == [[], [], []] and (b.input_ids != tok.unk_token_id).all()
    assert all(tok.tokens([tok.token_to_id(w)]) == [w] for w in FILLER)
    # adding them moved no caption token: ids stay those of BPE on the captions alone
    captions_only, _ = train_bpe(word_counts(caption_corpus()), 1000)
    assert {t: tok.vocab[t] for t in captions_only} == captions_only
    assert tok.vocab_size == len(captions_only) + 2


@pytest.mark.parametrize('word_level', [False, True])
def test_save_load_and_wrappers(tmp_path, word_level):
    tok = BPETokenizer.train(prose_corpus(), 200, word_level=word_level)
    f = tok.save(tmp_path / 'tok.json')
    back = BPETokenizer.load(f)
    prompts = ['The ZOETROPE, spinning!', 'a café', '', 'drum <eos> drum', 'x' * 3]
    fast = PreTrainedTokenizerFast(tokenizer_object=Tokenizer.from_file(str(f)), pad_token=PAD, bos_token=BOS,
                                   eos_token=EOS, unk_token=UNK)
    ref = tok.encode(prompts, 12)
    for other in (back, HFTokenizer(Tokenizer.from_file(str(f))), HFTokenizer(fast)):
        b = other.encode(prompts, 12)
        assert torch.equal(ref.input_ids, b.input_ids) and torch.equal(ref.attention_mask, b.attention_mask)
        assert ref.unknown == b.unknown
        assert other.decode(ref.input_ids) == tok.decode(ref.input_ids)
        assert other.vocab_size == tok.vocab_size


def test_input_rules():
    tok = caption_tokenizer()
    with pytest.warns(UserWarning, match=r'prompt 1 has 9 tokens .* max_length=6'):
        b = tok.encode(['red', 'a small red circle moving left now'], max_length=6)
    assert b.input_ids.shape == (2, 6) and b.input_ids[1, -1].item() == tok.eos_token_id
    with pytest.raises(TypeError, match='prompt 0 is int'): tok.encode([3])
    with pytest.raises(TypeError, match='prompts must be a string or a list'): tok.encode(None)
    with pytest.raises(ValueError, match='max_length must be'): tok.encode(['red'], max_length=0)
    with pytest.raises(ValueError, match='outside this vocabulary'): tok.decode([-1])
    with pytest.raises(ValueError, match='special tokens'): BPETokenizer({'a': 0}, [])
    with pytest.raises(ValueError, match='missing from vocab'): BPETokenizer({t: i for i, t in enumerate(SPECIAL_TOKENS)}, [('a', 'b')])
    with pytest.raises(TypeError, match='HFTokenizer wraps'): HFTokenizer(tok)


def test_widgets():
    tok = caption_tokenizer()
    text, shown = prompt_widget(tok).children
    text.value = 'a purple circle'
    assert 'unknown: purple' in shown.value
    prose = BPETokenizer.train(prose_corpus(), 200)
    slider, shown = merges_widget(prose, 'the zoetrope').children
    before = shown.value
    slider.value = slider.max
    assert shown.value != before and '2 tokens' in shown.value
