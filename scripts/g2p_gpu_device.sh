#!/usr/bin/env bash
# The G2P GPU run, as one command on the lent GPU machine (the device tool runs it in the repo's
# root with $OUT set; see scripts/g2p_gpu.py):
#   bash scripts/g2p_gpu_device.sh
# It installs the wheels carried in .whl/ (keras, keras-hub and what they need beyond the
# machine's image: the machine has JAX but no TensorFlow and no network), trains
# transformer_gpu and transformer_gpu_wide side by side on the one GPU (each with 40% of its
# memory), decodes the two as one ensemble, and leaves in $OUT: base.log, wide.log,
# base/row.json, base/weights.npz.part*, wide/row.json and ensemble.json (the wide model's
# weights stay there: with the base's they are more than the tool returns).
# The wheels, fetched beforehand on a machine that reaches the registries (Python 3.12 there):
#   pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#     --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64 -d .whl \
#     keras==3.15.1 keras-hub==0.32.0 namex==0.1.0 optree==0.20.0
# (keras-hub imports without kagglehub or tensorflow-text; the machine has numpy, h5py, absl,
# rich, ml-dtypes, regex, tokenizers and sentencepiece), and .whl/ listed in .git/info/exclude.
# G2P_GPU_SMOKE="--limit 512 --minutes 0.1 ..." shrinks every step, for a rehearsal on a CPU;
# with PYTHONPATH pointing at a sitecustomize.py that sets sys.modules["tensorflow"] = None,
# the rehearsal also proves the run needs no TensorFlow.
set -u
: "${OUT:?set OUT to the folder for the results}"
SMOKE=${G2P_GPU_SMOKE:-}
export KERAS_BACKEND=jax PYTHONUNBUFFERED=1
if [ -d .whl ] && ! python3 -c "import keras" 2>/dev/null; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl || { echo "g2p_gpu_device: the wheels in .whl did not install"; exit 1; }
    export PYTHONPATH=/tmp/site:${PYTHONPATH:-}
fi
export PYTHONPATH=$PWD:${PYTHONPATH:-}
export XLA_PYTHON_CLIENT_MEM_FRACTION=${XLA_PYTHON_CLIENT_MEM_FRACTION:-0.4}
nvidia-smi -L 2>/dev/null
start=$(date +%s)
python3 scripts/g2p_gpu.py train transformer_gpu --out "$OUT/base" $SMOKE >"$OUT/base.log" 2>&1 &
base=$!
python3 scripts/g2p_gpu.py train transformer_gpu_wide --out "$OUT/wide" $SMOKE >"$OUT/wide.log" 2>&1 &
wide=$!
wait $base; base_rc=$?
wait $wide; wide_rc=$?
echo "== trained in $(( $(date +%s) - start )) s (exit codes $base_rc, $wide_rc)"
tail -n 12 "$OUT/base.log"; tail -n 12 "$OUT/wide.log"
[ $base_rc = 0 ] && [ $wide_rc = 0 ] || exit 1
ENSEMBLE_SMOKE=$(echo "$SMOKE" | grep -o -- "--[a-z-]*\(words\|test-limit\|batch\) [0-9]*")
python3 scripts/g2p_gpu.py ensemble "$OUT/base" "$OUT/wide" --out "$OUT/ensemble.json" --side-by-side \
    $ENSEMBLE_SMOKE
rc=$?
rm -f "$OUT"/wide/weights.npz.part*
echo "== done in $(( $(date +%s) - start )) s"
exit $rc
