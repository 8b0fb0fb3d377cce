__version__ = "0.1.0"
# Fast on a busy laptop (lesson 17): torch's OpenMP threads (libgomp) spin between parallel regions, and when other
# programs keep the cores busy that spinning makes one video 7-19x slower. PASSIVE makes idle threads sleep at once.
# libgomp reads the variable once, when torch loads it: so only before torch is imported, and never over the user's.
import os as _os, sys as _sys
if 'torch' not in _sys.modules: _os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')
del _os, _sys
