"""Build the example:  python setup.py build_ext --inplace   (with chunkzip installed)."""
import chunkzip
from Cython.Build import cythonize
from setuptools import Extension, setup

INC, LIB = chunkzip.get_include(), chunkzip.get_library_dir()

setup(
    name="czdemo",
    ext_modules=cythonize([
        Extension("czdemo", ["czdemo.pyx"], include_dirs=[INC], library_dirs=[LIB],
                  libraries=["chunkzip"], runtime_library_dirs=[LIB]),
    ]),
)
