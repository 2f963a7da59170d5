"""Regenerates the Python code in client/meterd/v1 from protos/ (messages, gRPC stubs, .pyi types).

Run through `make generate`. The output is committed; CI regenerates and fails on any difference.
"""

from __future__ import annotations

import shutil
import sys
from importlib.resources import files
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTOS = ROOT / "protos"
OUT = ROOT / "client"
PACKAGE_DIR = OUT / "meterd" / "v1"
BIN = Path(sys.executable).parent


def main() -> int:
    sources = sorted(str(p.relative_to(PROTOS)) for p in (PROTOS / "meterd" / "v1").glob("*.proto"))
    # Start clean so a removed .proto leaves no stale module behind.
    if PACKAGE_DIR.exists():
        shutil.rmtree(PACKAGE_DIR)
    PACKAGE_DIR.mkdir(parents=True)
    well_known = str(files("grpc_tools") / "_proto")
    args = [
        "grpc_tools.protoc",
        f"-I{PROTOS}",
        f"-I{well_known}",
        f"--python_out={OUT}",
        f"--grpc_python_out={OUT}",
        f"--plugin=protoc-gen-mypy={BIN / 'protoc-gen-mypy'}",
        f"--plugin=protoc-gen-mypy_grpc={BIN / 'protoc-gen-mypy_grpc'}",
        f"--mypy_out={OUT}",
        f"--mypy_grpc_out={OUT}",
        *sources,
    ]
    code = protoc.main(args)
    if code != 0:
        print("protoc failed", file=sys.stderr)
        return int(code)
    (PACKAGE_DIR / "__init__.py").write_text(
        '"""Generated from protos/meterd/v1 by `make generate`. Do not edit."""\n'
    )
    (PACKAGE_DIR / "py.typed").write_text("")
    print(f"generated {len(sources)} protos into {PACKAGE_DIR.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
