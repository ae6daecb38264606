# make test: set up .venv (apt packages included) and run linters and every test.
# make demo: run the main job on the embedded default robot.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The ROS tooling from Debian lives in the system Python, so the venv is built on it.
SYSTEM_PYTHON := /usr/bin/python3
export MUJOCO_GL ?= egl
export PYOPENGL_PLATFORM ?= $(MUJOCO_GL)

APT_PACKAGES := python3-venv python3-dev cmake \
	python3-rosidl rosidl-tools python3-catkin-pkg ament-cmake ament-cmake-python \
	ament-lint python3-ament-flake8 python3-ament-pep257 python3-ament-copyright \
	python3-ament-xmllint python3-ament-lint-cmake python3-flake8-import-order \
	python3-flake8-quotes python3-flake8-builtins python3-flake8-comprehensions \
	python3-flake8-docstrings liburdfdom-tools \
	libegl1 libegl-mesa0 libgl1-mesa-dri libosmesa6

ROS_DIR := rt_grasp_ros/ros

.PHONY: setup apt lint pytest test demo bench clean

setup: $(STAMP)

apt:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing apt packages:$$missing"; \
	  sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(STAMP): pyproject.toml Makefile | apt
	test -x $(PY) || $(SYSTEM_PYTHON) -m venv --system-site-packages $(VENV)
	# torch first and pinned: unpinned, pip would pull a CUDA build and gigabytes of packages.
	$(PY) -m pip install -q --disable-pip-version-check torch==2.13.0
	$(PY) -m pip install -q --disable-pip-version-check -e '.[all,dev]'
	touch $(STAMP)

lint: setup
	$(VENV)/bin/ruff check .
	ament_xmllint package.xml
	@if [ -d $(ROS_DIR) ]; then ament_flake8 $(ROS_DIR) && ament_pep257 $(ROS_DIR); fi

pytest: setup
	$(PY) -m pytest

test: lint pytest

demo: setup
	$(VENV)/bin/rt-grasp demo --out runs/demo

bench: setup
	@for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build install log runs
