"""Maps the `meterd` namespace, split across client/ and server/, onto its directories, and builds the
server's C extension (the ingest fold's loop, meters/_foldc.c).

pyproject.toml holds the metadata; setuptools' automatic discovery cannot map one namespace package
that lives under two roots, so each package is mapped explicitly here. The extension is optional: where
it cannot be built (no C compiler or Python headers) the install goes on and the fold runs in Python.
"""

from setuptools import Extension, find_namespace_packages, setup

package_dir: dict[str, str] = {}
for root in ("client", "server"):
    for package in find_namespace_packages(root, include=["meterd.*"]):
        package_dir[package] = f"{root}/{package.replace('.', '/')}"

setup(
    packages=sorted(package_dir),
    package_dir=package_dir,
    ext_modules=[Extension("meterd.server.meters._foldc", ["server/meterd/server/meters/_foldc.c"], optional=True)],
)
