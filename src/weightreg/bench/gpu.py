"""The engine's compiled program on a GPU where TensorFlow's CUDA build cannot be installed: the
benchmark's GPU column.

    python -m weightreg.bench.gpu export DIR   # here, with TensorFlow
    python -m weightreg.bench.gpu run DIR      # on the GPU machine: needs NumPy and JAX only

`export` writes, for each population size K, the XLA program (HLO) of one chunk of epochs as
`engine.train` compiles it for the benchmark's population (the tutorial's settings, l2(1e-3) on
the hidden kernel, members cycling through the first ten seeds), the ten seeds' inputs, and
TensorFlow's own outputs on this CPU after CHECK_EPOCHS epochs.

`run` compiles each program with the XLA inside jaxlib for its GPU and its CPU, checks every
member's outputs after CHECK_EPOCHS epochs against TensorFlow's member with the same seed
(relative error, NaN fails), then times one chunk of epochs (`engine.CHUNK_EPOCHS`): the median
of REPEATS calls, inputs already on the device and the chunk's records copied back, as a stage
copies them. On the GPU, the largest population then trains for STUDY_EPOCHS epochs, chunk
after chunk, as a stage trains it. It prints a table and one JSON line. It uses jaxlib's private HLO import and was
tested with jax 0.11.2 (with its CUDA plugin on the GPU machine).

The program is TensorFlow's; the compiler is jaxlib's XLA, which may fuse it differently, so the
GPU numbers are this program's, not a promise for TensorFlow's CUDA build.
"""

from __future__ import annotations

import argparse
import inspect
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

SIZES = (1, 60, 600, 6000, 20000, 40000)  # population sizes K; one group each, as on a GPU
CPU_SIZES = (1, 60, 600)  # a CPU takes minutes at the larger ones
BASE = 10  # members cycle through this many seeds: inputs for any K are these, repeated
CHECK_EPOCHS = 10
REPEATS = 3
STUDY_EPOCHS = 4000  # the largest K also trains this long on the GPU, chunk by chunk
TOLERANCE = 1e-4  # relative error against TensorFlow after CHECK_EPOCHS epochs (float32)
N_EPOCHS = "n_epochs"


def export(folder: Path) -> None:
    from weightreg import backend, data, engine, models, tasks
    from weightreg.bench import speed as bench

    tf = backend.tensorflow()
    split = data.make(bench.DATA)
    members = bench.population(BASE)
    chunk = engine.CHUNK_EPOCHS
    network = models.network(bench.HIDDEN_UNITS)
    arrays = engine._member_arrays(members, network, chunk)
    run_chunk, _ = engine._build_program(engine.Layout(
        tasks.BINARY, network, len(split.y_train), bench.BATCH_SIZE, shuffle=True,
        own_rows=False, curves=True))
    inputs = engine._chunk_inputs(engine._rows(split, members).arrays, arrays, chunk,
                                  bench.LEARNING_RATE)
    # The program's parameters follow its signature; the runner feeds them in this order.
    assert list(inputs) == list(inspect.signature(run_chunk.python_function).parameters)
    base = _flat(inputs)
    folder.mkdir(parents=True, exist_ok=True)
    np.savez(folder / "inputs.npz", **base)
    for k in SIZES:
        shaped = {  # traced, not run: zeros of the right shape do
            name: tf.nest.pack_sequence_as(value, [
                tf.zeros(_grown_shape(leaf.shape, leaf_name, k), leaf.dtype)
                for leaf_name, leaf in _flat({name: value}, arrays=False).items()])
            for name, value in inputs.items()}
        (folder / f"chunk_{k}.hlo.pb").write_bytes(
            run_chunk.experimental_get_compiler_ir(**shaped)(stage="hlo_serialized"))
    checked = backend.quietly(
        lambda: run_chunk(**{**inputs, N_EPOCHS: tf.constant(CHECK_EPOCHS)}))
    np.savez(folder / "reference.npz", *(t.numpy() for t in tf.nest.flatten(checked)))
    (folder / "layout.json").write_text(json.dumps({
        "names": list(base), "sizes": SIZES, "check_epochs": CHECK_EPOCHS,
        "chunk_epochs": chunk, "tensorflow": tf.__version__}))
    print(f"wrote {len(SIZES)} programs (K = {', '.join(map(str, SIZES))}) to {folder}")


def _flat(inputs: dict[str, object], arrays: bool = True) -> dict[str, object]:
    """The program's arguments as arrays (or as they are), in the order XLA takes them
    (`tf.nest`'s): a named tuple's fields named `name_field`, a tuple's parts `name_0`, ..."""
    flat = {}

    def walk(name: str, value) -> None:
        if isinstance(value, tuple) and hasattr(value, "_fields"):
            for part in value._fields:
                walk(f"{name}_{part}", getattr(value, part))
        elif isinstance(value, tuple):
            for i, part in enumerate(value):
                walk(f"{name}_{i}", part)
        else:
            flat[name] = np.asarray(value) if arrays else value

    for name, value in inputs.items():
        walk(name, value)
    return flat


def _member_axis(name: str) -> int | None:
    """Where a chunk input holds its members (see `engine._member_arrays`): per-member arrays
    lead with them, the lambda multipliers are [epochs, K], the rows and scalars have none."""
    if name == "scales":
        return 1
    if name.startswith(("state_weights", "state_moments", "state_velocities",
                        "coefficients_")) or name == "seeds":
        return 0
    return None


def _grown_shape(shape, name: str, k: int) -> list[int]:
    """The shape of an input for a population of k."""
    axis = _member_axis(name)
    return [k if i == axis else n for i, n in enumerate(shape)]


def _grown(value: np.ndarray, name: str, k: int) -> np.ndarray:
    """An input of the BASE-member population for a population of k (members repeat)."""
    axis = _member_axis(name)
    if axis is None:
        return value
    return np.take(value, np.arange(k) % value.shape[axis], axis=axis)


def run(folder: Path) -> dict[str, object]:
    import jax
    from jax._src.lib import _jax, xla_client

    layout = json.loads((folder / "layout.json").read_text())
    inputs = np.load(folder / "inputs.npz")
    stored = np.load(folder / "reference.npz")
    reference = [stored[f"arr_{i}"] for i in range(len(stored.files))]
    devices = {}
    for kind in ("gpu", "cpu"):
        try:
            devices[kind] = jax.devices(kind)[0]
        except RuntimeError:  # no such device here: a CPU-only check of the programs
            pass
    results = {"jax": jax.__version__, "tensorflow": layout["tensorflow"],
               "check_epochs": layout["check_epochs"],
               "devices": {kind: device.device_kind for kind, device in devices.items()},
               "rows": []}
    for k in layout["sizes"]:
        program = _jax.mlir.hlo_to_stablehlo((folder / f"chunk_{k}.hlo.pb").read_bytes())
        args = {name: _grown(inputs[name], name, k) for name in layout["names"]}
        for kind, device in devices.items():
            if kind == "cpu" and k not in CPU_SIZES:
                continue
            started = time.perf_counter()
            executable = device.client.compile_and_load(program, [device],
                                                        xla_client.CompileOptions())
            compile_s = time.perf_counter() - started

            on_device = {name: jax.device_put(value, device) for name, value in args.items()}

            def call(epochs, everything=False):
                epochs = jax.device_put(np.asarray(epochs, inputs[N_EPOCHS].dtype), device)
                outputs = executable.execute([epochs if name == N_EPOCHS else value
                                              for name, value in on_device.items()])
                # A stage keeps the weights and Adam's state on the device between chunks
                # and copies back each chunk's records.
                return [np.asarray(out) for out in (outputs if everything else outputs[-1:])]

            error = _error(call(layout["check_epochs"], everything=True), reference,
                           layout["check_epochs"])
            seconds = statistics.median(_seconds(lambda: call(layout["chunk_epochs"]))
                                        for _ in range(REPEATS))
            row = {"device": kind, "members": k, "epochs": layout["chunk_epochs"],
                   "compile_s": compile_s, "seconds": seconds, "relative_error": error,
                   "ms_per_member_epoch": seconds / (k * layout["chunk_epochs"]) * 1e3}
            results["rows"].append(row)
            print(f"bench_gpu: {kind} K={k}: {row['ms_per_member_epoch']:.6f} ms per "
                  f"member-epoch, error {error:.1e}", file=sys.stderr, flush=True)
            if kind == "gpu" and k == max(layout["sizes"]):
                results["study"] = _study(executable, on_device, device, layout)
    return results


def _study(executable, on_device: dict, device, layout: dict) -> dict[str, object]:
    """STUDY_EPOCHS epochs in chunks, as `engine._train_group` runs them: the weights and
    Adam's state stay on the device from chunk to chunk, and each chunk's records come back."""
    import jax

    names = layout["names"]
    state_names = names[:names.index("state_step") + 1]  # the outputs before the records
    chunk = layout["chunk_epochs"]
    inputs = dict(on_device)
    started = time.perf_counter()
    records = []
    for first in range(0, STUDY_EPOCHS, chunk):
        inputs["first_epoch"] = jax.device_put(
            np.asarray(first, on_device["first_epoch"].dtype), device)
        *state, chunk_records = executable.execute(list(inputs.values()))
        inputs.update(zip(state_names, state))
        records.append(np.asarray(chunk_records))
    seconds = time.perf_counter() - started
    last = records[-1][-1]  # the last epoch's records, [records, K]
    members = last.shape[-1]
    return {"members": members, "epochs": STUDY_EPOCHS, "seconds": seconds,
            "ms_per_member_epoch": seconds / (members * STUDY_EPOCHS) * 1e3,
            "finite": bool(all(np.isfinite(r).all() for r in records)),
            "last_train_acc": float(last[0].mean()), "last_train_loss": float(last[1].mean())}


def _error(outputs: list[np.ndarray], reference: list[np.ndarray], epochs: int) -> float:
    """The largest relative error (‖out − ref‖ / ‖ref‖) of any member in any output (weights,
    Adam's moments and velocities, step, records [epochs, records, K]), each member against
    TensorFlow's member with its seed (the reference has the BASE members, and member j has
    the seed of member j % BASE); infinite where anything is not finite."""
    *states, step, records = outputs
    *ref_states, ref_step, ref_records = reference
    pairs = [(out, ref, 0) for out, ref in zip(states, ref_states)]
    pairs += [(step[None], ref_step[None], 0),
              (records[:epochs], ref_records[:epochs], 2)]
    worst = 0.0
    for out, ref, axis in pairs:
        ref = np.take(ref, np.arange(out.shape[axis]) % ref.shape[axis], axis=axis)
        if not (np.isfinite(out).all() and np.isfinite(ref).all()):
            return float("inf")
        out, ref = (np.moveaxis(a, axis, 0).reshape(a.shape[axis], -1).astype(np.float64)
                    for a in (out, ref))
        scale = np.linalg.norm(ref, axis=1)
        error = np.linalg.norm(out - ref, axis=1) / np.where(scale > 0, scale, 1.0)
        worst = max(worst, float(error.max()))
    return worst


def _seconds(call) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def table(results: dict[str, object]) -> str:
    rows = results["rows"]
    cpu = {row["members"]: row["ms_per_member_epoch"] for row in rows if row["device"] == "cpu"}
    lines = [f"the engine's chunk program (TensorFlow {results['tensorflow']}) compiled by "
             f"jaxlib {results['jax']}'s XLA on " + " and ".join(
                 f"{kind} ({name})" if name != kind else kind
                 for kind, name in results["devices"].items()),
             f"{'device':<8}{'K':>7}{'compile s':>11}{'ms/member-epoch':>17}"
             f"{'vs its CPU':>12}{'error':>10}"]
    for row in rows:
        versus = (f"{cpu[row['members']] / row['ms_per_member_epoch']:.1f}x"
                  if row["device"] == "gpu" and row["members"] in cpu else "")
        lines.append(f"{row['device']:<8}{row['members']:>7}{row['compile_s']:>11.2f}"
                     f"{row['ms_per_member_epoch']:>17.6f}{versus:>12}"
                     f"{row['relative_error']:>10.1e}")
    study = results.get("study")
    if study:
        lines.append(f"gpu: {study['members']} members x {study['epochs']} epochs, chunk by chunk "
                     f"as a stage trains them: {study['seconds']:.1f} s "
                     f"({study['ms_per_member_epoch']:.6f} ms per member-epoch), every record "
                     f"{'finite' if study['finite'] else 'NOT FINITE'}; the last epoch's mean train "
                     f"accuracy {study['last_train_acc']:.3f}, loss {study['last_train_loss']:.4f}")
    bad = [row for row in rows if not row["relative_error"] <= TOLERANCE]
    lines.append(f"every member's outputs after {results['check_epochs']} epochs against TensorFlow's: "
                 + (f"{len(bad)} rows over {TOLERANCE:g}" if bad else f"all within {TOLERANCE:g}"))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m weightreg.bench.gpu",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("step", choices=("export", "run"))
    parser.add_argument("folder", type=Path)
    args = parser.parse_args(argv)
    if args.step == "export":
        export(args.folder)
        return 0
    results = run(args.folder)
    print(table(results))
    print(json.dumps(results))
    checked = all(row["relative_error"] <= TOLERANCE for row in results["rows"])
    return 0 if checked and results.get("study", {}).get("finite", True) else 1


if __name__ == "__main__":
    sys.exit(main())
