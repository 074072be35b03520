# Two commands do all the set-up: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: install demo test test-tf test-jax test-all test-extended test-jax-all test-torch test-onnx clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

# Train location_bilstm on the default g2p task (a few CPU minutes), print PER/WER and sample
# words, write TensorBoard logs to logs/demo and the run to runs/demo.
demo: $(STAMP)
	KERAS_BACKEND=$${KERAS_BACKEND:-tensorflow} $(BIN)/keras-s2s demo --logdir logs/demo --out runs/demo

# The whole suite on TensorFlow, then the backend-agnostic layer tests again on JAX. Two
# pytest workers: XLA compiles on one core, so two processes keep both cores busy.
test: $(STAMP) test-tf test-jax

test-tf: $(STAMP)
	KERAS_BACKEND=tensorflow $(BIN)/python -m pytest -q -n 2 --dist worksteal --durations=15 \
		-m "not extended" tests

test-jax: $(STAMP)
	KERAS_BACKEND=jax $(BIN)/python -m pytest -q -n 2 --dist worksteal \
		-m "not extended and not extended_on_jax" tests/layers

# beyond the 25-minute budget of `make test`: the tests marked `extended` (the longer tutorials,
# the benchmark suite, JAX's several-device run, ...), and on JAX the `extended_on_jax` layer
# tests, every zoo entry's registry checks (build, fit under jit, step parity, round trip)
# and the decoding tests
test-all: test test-extended test-jax-all test-torch test-onnx

test-extended: $(STAMP)
	KERAS_BACKEND=tensorflow $(BIN)/python -m pytest -q -n 2 --dist worksteal --durations=15 \
		-m extended tests

test-jax-all: $(STAMP)
	KERAS_BACKEND=jax $(BIN)/python -m pytest -q -n 2 --dist worksteal -m extended_on_jax \
		tests/layers
	KERAS_BACKEND=jax $(BIN)/python -m pytest -q -n 2 --dist worksteal --durations=15 \
		-m "not extended" tests/zoo/test_registry.py tests/zoo/test_models.py tests/decoding

# the PyTorch backend: the layer tests, then three entries against TensorFlow's outputs, fit and
# the CLI (tests/backends). PyTorch is not a dependency: its CPU wheel is installed here.
test-torch: $(STAMP)
	$(BIN)/python -m pip install --quiet "torch==2.13.0+cpu" || $(BIN)/python -m pip install --quiet torch
	KERAS_BACKEND=torch $(BIN)/python -m pytest -q -n 2 --dist worksteal \
		-m "not extended and not extended_on_jax" tests/layers tests/backends

# ONNX export (tests/export/test_onnx.py): tf2onnx and onnxruntime are not dependencies
test-onnx: $(STAMP)
	$(BIN)/python -m pip install --quiet tf2onnx onnxruntime
	KERAS_BACKEND=tensorflow $(BIN)/python -m pytest -q -p no:xdist tests/export/test_onnx.py

clean:
	rm -rf $(VENV) build *.egg-info logs
