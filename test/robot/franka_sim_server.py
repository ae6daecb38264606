"""Run franka-sim (libfranka's protocol: arm on 1337, Franka Hand on 1338) for the tests.

Started by :mod:`robot.sim_servers` with the franka-sim venv's Python (franka-sim pins
mujoco<3.3 and numpy 1.26). Offline: the FR3 model is franky-sim's (its wheel ships the MJCF and
meshes), copied with an absolute meshdir and given to franka-sim as $FR3_MJCF. Binds ``--host``
only (its own command line binds 0.0.0.0), communication and motion-limit checks off. Prints
``ready`` once it serves; stdin lines ``object 0.03`` / ``object none`` set the virtual object
between the fingers; it stops when stdin closes or on SIGINT/SIGTERM.
"""

import argparse
import os
import signal
import sys
import tempfile
import threading
from pathlib import Path


def fr3_model(folder: Path) -> Path:
    """Copy franky-sim's FR3 MJCF into ``folder`` with an absolute meshdir; return its path."""
    import importlib.util

    # find_spec, not import: franky_sim's __init__ needs pinocchio (installed --no-deps)
    spec = importlib.util.find_spec("franky_sim")
    if spec is None or spec.origin is None:
        raise RuntimeError("franky-sim is not installed (its wheel holds the FR3 model)")
    assets = Path(spec.origin).resolve().parent / "assets"
    text = (assets / "fr3.xml").read_text()
    text = text.replace('meshdir="assets"', f'meshdir="{assets / "meshes"}"')
    # franka-sim reports the pose (O_T_EE), velocity and Jacobian of the body named link7 as the
    # flange's; the real flange, where libfranka's model (built from the robot's URDF) puts it,
    # is 0.107 m further along link7's z. Left so, the measured pose and the model's Jacobian
    # (franky's impedance controller) describe points 0.107 m apart. Rename the link and give
    # it a massless child "fr3_link7" at the flange: franka-sim then measures the real flange.
    link7, hand = '<body name="fr3_link7" ', '<body name="hand" pos="0 0 0.107"'
    if link7 in text and hand in text:
        text = text.replace(link7, '<body name="fr3_link7_body" ', 1)
        text = text.replace(hand, '<body name="fr3_link7" pos="0 0 0.107"/>\n' + hand, 1)
    path = folder / "fr3.xml"
    path.write_text(text)
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--object-width", type=float, default=None)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="franka_sim_"))
    os.environ["FR3_MJCF"] = str(fr3_model(folder))
    from franka_sim import FrankaSimServer

    server = FrankaSimServer(
        host=args.host,
        gripper_object_width=args.object_width,
        enforce_comm_constraints=False,
        enforce_motion_limits=False,
    )

    def control():
        for line in sys.stdin:
            words = line.split()
            if len(words) == 2 and words[0] == "object":
                width = None if words[1] == "none" else float(words[1])
                server.gripper_server.backend.set_object_width(width)
                print(f"object {width}", flush=True)
        os.kill(os.getpid(), signal.SIGINT)

    def ready():
        import socket
        import time

        while True:
            try:
                socket.create_connection((args.host, 1338), timeout=0.2).close()
                socket.create_connection((args.host, 1337), timeout=0.2).close()
                print("ready", flush=True)
                return
            except OSError:
                time.sleep(0.1)

    signal.signal(signal.SIGTERM, lambda *a: os.kill(os.getpid(), signal.SIGINT))
    threading.Thread(target=control, daemon=True).start()
    threading.Thread(target=ready, daemon=True).start()
    try:
        server.start()
    except KeyboardInterrupt:
        pass
    finally:
        timer = threading.Timer(10.0, lambda: os._exit(1))
        timer.daemon = True
        timer.start()
        server.stop()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
