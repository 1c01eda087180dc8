"""Tools that measure the library, apart from it: none of the study's stages imports them.

    python -m weightreg.bench            speed.py: the engine against Keras `fit` and scikit-learn
    python -m weightreg.bench.waits      waits.py: what users wait for (exp run, repro --force)
    python -m weightreg.bench.gpu        gpu.py: the engine's compiled program on a GPU, via JAX
"""
