"""Storyboard planner accuracy on generated narratives it was not built from.

    OMP_NUM_THREADS=1 python benchmarks/planner_accuracy.py --n 2000 --seed 1

Narratives come from this file's own templates and phrasings (not the lesson's examples): 1-4 scenes, pronouns,
omitted attributes, "back", colour/size changes, new objects, and (a share of them) one word the planner does not know.
A narrative counts as correct when the planned storyboard equals the true one exactly; with an unknown word, when the
planner raises an error that names that word. Prints overall and per-phenomenon accuracy.
"""
import argparse, random
from collections import defaultdict
from vidlab.data import VOCAB
from vidlab.planner import plan, scene_caption, OPPOSITE

SUBJECT_NEW = ['a {noun}', 'there is a {noun}; it', 'a {noun} appears and']  # introduce an object
VERBS = ['moves', 'goes', 'heads', 'travels', 'glides', 'slides', 'drifts', 'rolls', 'floats']
DIR_FORMS = {'left': ['left', 'to the left', 'leftwards'], 'right': ['right', 'to the right', 'rightward'],
             'up': ['up', 'upwards', 'upward'], 'down': ['down', 'downwards', 'downward']}
JOIN = [', then ', '. then ', ' and then ', ', and then ', '; next ', '. after that ', ', finally ']
REF = ['it ', '', 'the {shape} ', 'the shape ', 'the object ']
UNKNOWN = ['slowly', 'quickly', 'suddenly', 'gracefully', 'zigzags', 'bounces', 'purplish', 'spins']


def noun(rng, attrs):
    "A noun phrase stating a random subset (shape always) of the object's attributes, in grammar order."
    words = [attrs[k] for k in ('size', 'colour') if rng.random() < 0.7] + [attrs['shape']]
    return ' '.join(words), {k: attrs[k] for k in ('size', 'colour', 'shape') if attrs[k] in words}


def story(rng):
    "(narrative, true scenes as caption strings, phenomena tags, unknown word or None)"
    tags, scenes, parts = set(), [], []
    obj = {k: rng.choice(VOCAB[k]) for k in ('size', 'colour', 'shape')}
    phrase, stated = noun(rng, obj)
    d = rng.choice(VOCAB['direction'])
    parts.append(rng.choice(SUBJECT_NEW).format(noun=phrase) + f' {rng.choice(VERBS)} {rng.choice(DIR_FORMS[d])}')
    cur = {**stated, 'direction': d}
    scenes.append(dict(cur))
    for _ in range(rng.randint(0, 3)):
        kind = rng.choice(['move', 'move', 'back', 'turn', 'colour', 'size', 'new'])
        ref = rng.choice(REF).format(shape=cur.get('shape', 'shape'))
        if ref.startswith('the') or ref.startswith('it'): tags.add('reference')
        if kind in ('move', 'turn'):
            d = rng.choice([x for x in VOCAB['direction'] if x != cur['direction']])
            verb = rng.choice(VERBS) if kind == 'move' else 'turns and ' + rng.choice(VERBS)
            parts.append(f'{ref}{verb} {rng.choice(DIR_FORMS[d])}'); cur['direction'] = d; tags.add(kind)
        elif kind == 'back':
            d = OPPOSITE[cur['direction']]
            parts.append(f"{ref}{rng.choice(['comes back', 'goes back', 'heads back'])}"); cur['direction'] = d; tags.add('back')
        elif kind == 'colour':
            c = rng.choice([x for x in VOCAB['colour'] if x != cur.get('colour')])
            parts.append(f"{ref}{rng.choice(['turns', 'becomes'])} {c}"); cur['colour'] = c; tags.add('change')
        elif kind == 'size':
            s = rng.choice(VOCAB['size'])
            parts.append(f"{ref}{'grows' if s == 'large' else 'shrinks'}"); cur['size'] = s; tags.add('change')
        else:
            obj = {k: rng.choice(VOCAB[k]) for k in ('size', 'colour', 'shape')}
            phrase, stated = noun(rng, obj)
            d = rng.choice(VOCAB['direction'])
            parts.append(f'a {phrase} {rng.choice(VERBS)} {rng.choice(DIR_FORMS[d])}')
            cur = {**stated, 'direction': d}; tags.add('new object')
        scenes.append(dict(cur))
    text = parts[0] + ''.join(rng.choice(JOIN) + p for p in parts[1:]) + rng.choice(['', '.', '!'])
    unknown = None
    if rng.random() < 0.15:
        unknown = rng.choice(UNKNOWN)
        words = text.split(' ')
        i = rng.randrange(1, len(words) + 1)
        text = ' '.join(words[:i] + [unknown] + words[i:]); tags.add('unknown word')
    tags.add(f'{len(scenes)} scene' + ('s' if len(scenes) > 1 else ''))
    return text, [scene_caption(s) for s in scenes], tags, unknown


def main(n=2000, seed=1, show=5):
    rng = random.Random(seed)
    hits, totals, fails = defaultdict(int), defaultdict(int), []
    for _ in range(n):
        text, truth, tags, unknown = story(rng)
        try:
            ok = list(plan(text)) == truth and unknown is None
        except ValueError as e:
            ok = unknown is not None and repr(unknown) in str(e)
        for t in tags | {'all'}:
            totals[t] += 1; hits[t] += ok
        if not ok and len(fails) < show: fails.append((text, truth))
    print(f'planner exact-storyboard accuracy on {n} generated narratives (seed {seed}):')
    for t in sorted(totals, key=lambda t: (t != 'all', t)): print(f'  {t:14s} {hits[t] / totals[t]:.3f}  (n={totals[t]})')
    for text, truth in fails: print('  miss:', repr(text), '->', truth)
    return hits['all'] / totals['all']


if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--n', type=int, default=2000)
    p.add_argument('--seed', type=int, default=1)
    a = p.parse_args()
    main(a.n, a.seed)
