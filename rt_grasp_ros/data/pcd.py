"""Cornell point clouds (PCD v0.7 ASCII, fields ``x y z rgb index``) as depth images.

Both the Cornell loader (which writes them) and :class:`GraspSample` (which reads them) use
this module, so neither imports the other.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rt_grasp_ros.errors import DatasetError


def read_pcd_depth(path: str | Path, shape: tuple[int, int]) -> np.ndarray:
    """Depth image ``(H, W)`` float32 in metres from a Cornell point cloud.

    Each point's ``index`` field is its pixel ``row * W + col``; the value is the point's
    distance from the camera (the coordinates are millimetres). Pixels without a point are 0.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="ascii", errors="replace")
    except OSError as exc:
        raise DatasetError(f"cannot read point cloud {path}: {exc}") from exc
    marker = text.find("DATA ascii")
    if marker < 0:
        raise DatasetError(f"{path}: not a PCD ASCII point cloud (no 'DATA ascii' line)")
    header = text[:marker].split("\n")
    fields = next((ln.split()[1:] for ln in header if ln.startswith("FIELDS")), None)
    if not fields or not {"x", "y", "z", "index"} <= set(fields):
        raise DatasetError(f"{path}: PCD header must list FIELDS x y z ... index, got {fields}")
    body = text[marker + len("DATA ascii") :]
    try:
        values = np.array(body.split(), dtype=np.float64)
    except ValueError as exc:
        raise DatasetError(f"{path}: point data is not numeric: {exc}") from exc
    if values.size % len(fields):
        raise DatasetError(
            f"{path}: {values.size} numbers do not form rows of {len(fields)} fields"
        )
    points = values.reshape(-1, len(fields))
    col = {name: i for i, name in enumerate(fields)}
    xyz = points[:, [col["x"], col["y"], col["z"]]]
    index = points[:, col["index"]].astype(np.int64)
    height, width = shape
    ok = (index >= 0) & (index < height * width) & np.isfinite(xyz).all(axis=1)
    depth = np.zeros(height * width, dtype=np.float32)
    depth[index[ok]] = np.linalg.norm(xyz[ok], axis=1) / 1000.0
    return depth.reshape(height, width)


def write_pcd_depth(path: str | Path, depth: np.ndarray, focal_px: float = 585.0) -> None:
    """Write a depth image (metres) as a Cornell-style PCD v0.7 ASCII point cloud.

    Points are back-projected with a pinhole of ``focal_px`` about the image centre, in
    millimetres, so that :func:`read_pcd_depth` returns ``depth`` as a range image.
    """
    height, width = depth.shape
    rows, cols = np.nonzero(depth > 0)
    z = depth[rows, cols].astype(np.float64)
    x = (cols - width / 2) / focal_px
    y = (rows - height / 2) / focal_px
    # Scale the ray so that its length (the range) equals the stored depth.
    norm = np.sqrt(x**2 + y**2 + 1.0)
    pts = np.stack([x / norm, y / norm, 1.0 / norm], axis=1) * (z[:, None] * 1000.0)
    index = rows * width + cols
    header = (
        "# .PCD v.7 - Point Cloud Data file format\nFIELDS x y z rgb index\nSIZE 4 4 4 4 4\n"
        f"TYPE F F F F U\nCOUNT 1 1 1 1 1\nWIDTH {len(index)}\nHEIGHT 1\n"
        f"VIEWPOINT 0 0 0 1 0 0 0\nPOINTS {len(index)}\nDATA ascii\n"
    )
    body = "\n".join(
        f"{px:.4f} {py:.4f} {pz:.4f} 0 {i}" for (px, py, pz), i in zip(pts, index, strict=True)
    )
    Path(path).write_text(header + body + "\n", encoding="ascii")
