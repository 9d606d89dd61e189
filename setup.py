"""Builds the Cython hot paths in oimws/_speedups; everything else is in pyproject.toml."""

from Cython.Build import cythonize
from setuptools import Extension, setup

SPEEDUPS = ("codec", "ids", "fanout")

extensions = [
    Extension(f"oimws._speedups.{name}", [f"oimws/_speedups/{name}.pyx"]) for name in SPEEDUPS
]

setup(
    ext_modules=cythonize(
        extensions,
        language_level=3,
        compiler_directives={"boundscheck": False, "wraparound": False},
    ),
)
