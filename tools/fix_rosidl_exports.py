"""Point the rosidl_generator_py CMake exports of the ROS 2 PyPI wheels at this venv.

The ``ros-jazzy-*`` wheels were built in a manylinux container whose Python lives in
``/opt/python/cp311-cp311``; their ``share/<pkg>/cmake/<pkg>__rosidl_generator_pyExport.cmake``
files name that Python's include directory (and NumPy's) in ``INTERFACE_INCLUDE_DIRECTORIES``.
CMake refuses imported targets with include paths that do not exist, so building any interface
package that depends on them (ours depends on geometry_msgs, sensor_msgs, ...) fails with
``Imported target "geometry_msgs::geometry_msgs__rosidl_generator_py" includes non-existent
path``. This rewrites those directories to this interpreter's include directory and
``numpy.get_include()``.

Usage: ``VENV/bin/python tools/fix_rosidl_exports.py [PREFIX]`` (PREFIX defaults to the running
interpreter's ``sys.prefix``, i.e. the venv). Idempotent: files already right are left alone.
Run it again after any reinstall of the wheels (``make setup`` does).
"""

from __future__ import annotations

import re
import sys
import sysconfig
from pathlib import Path

EXPORT_GLOB = "share/*/cmake/*__rosidl_generator_pyExport.cmake"
INCLUDE_RE = re.compile(r'(INTERFACE_INCLUDE_DIRECTORIES ")[^"]*(")')


def include_dirs() -> str:
    """The CMake list of this interpreter's Python and NumPy include directories."""
    import numpy

    return f"{sysconfig.get_paths()['include']};{numpy.get_include()}"


def fix(prefix: Path) -> tuple[int, int]:
    """Rewrite every export under ``prefix``; return (files found, files changed)."""
    wanted = include_dirs()
    found = changed = 0
    for path in sorted(prefix.glob(EXPORT_GLOB)):
        found += 1
        text = path.read_text()
        new = INCLUDE_RE.sub(lambda m: m.group(1) + wanted + m.group(2), text)
        if new != text:
            path.write_text(new)
            changed += 1
    return found, changed


def main(argv: list[str]) -> int:
    """Command line entry point."""
    if len(argv) > 1:
        print(__doc__.split("\n\n")[2], file=sys.stderr)
        return 2
    prefix = Path(argv[0] if argv else sys.prefix).resolve()
    found, changed = fix(prefix)
    print(f"fix_rosidl_exports: {found} exports under {prefix}, {changed} changed")
    if not Path(sysconfig.get_paths()["include"], "Python.h").exists():
        print(
            "fix_rosidl_exports: WARNING: Python.h is missing: building interfaces needs the "
            "Python headers (apt-get install python3-dev)",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
