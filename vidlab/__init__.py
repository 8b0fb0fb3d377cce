__version__ = "0.1.0"
# Fast on a quiet machine and on a busy one (lesson 20). torch's OpenMP threads (libgomp) wait for work between parallel
# regions; by default they spin for milliseconds, and when other programs keep the cores busy that spinning makes one
# video 5-70x slower. OMP_WAIT_POLICY=PASSIVE alone makes them sleep at once, which costs 2-2.5x on a quiet machine
# (every region then waits for its threads to wake). A short spin, GOMP_SPINCOUNT=20000 (about 0.2 ms), keeps the quiet
# speed and the busy-machine safety (benchmarks/busy.py). libgomp reads both once, when torch loads it: so only before
# torch is imported, and never over the user's own setting of either.
import os as _os, sys as _sys
if 'torch' not in _sys.modules and not {'OMP_WAIT_POLICY', 'GOMP_SPINCOUNT'} & set(_os.environ):
    _os.environ.update(OMP_WAIT_POLICY='PASSIVE', GOMP_SPINCOUNT='20000')
del _os, _sys
