"""Maps the `meterd` namespace, split across client/ and server/, onto its directories.

pyproject.toml holds the metadata; setuptools' automatic discovery cannot map one namespace package
that lives under two roots, so each package is mapped explicitly here.
"""

from setuptools import find_namespace_packages, setup

package_dir: dict[str, str] = {}
for root in ("client", "server"):
    for package in find_namespace_packages(root, include=["meterd.*"]):
        package_dir[package] = f"{root}/{package.replace('.', '/')}"

setup(packages=sorted(package_dir), package_dir=package_dir)
