"""Tests of the fedlake DAG files without Airflow (it cannot be installed where fedlake is built).

1. Each DAG file is loaded with Python against a stand-in of the Airflow classes it uses
   (tests/standin/airflow), with process creation forbidden while it loads: a DAG file does no work
   at import time.
2. The task graphs, operators, params, retries, sensor and skip settings are checked.
3. The tasks' commands are rendered and run in the graph's order against a local store with the
   real `fedlake` (bin/fedlake, or $FEDLAKE), and every task is run a second time right after (a
   retry after a lost success), showing that retries leave the store as it was.

Run: python3 airflow-dags/tests/test_dags.py   (.ci/run does; needs python3 with numpy and jinja2)
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path
from unittest import mock

import numpy as np

HERE = Path(__file__).resolve().parent
DAGS = HERE.parent
REPO = DAGS.parent
sys.path[:0] = [str(HERE / "standin"), str(DAGS), str(HERE)]

from airflow import DAG  # noqa: E402  (the stand-in)
from airflow.operators.bash import BashOperator  # noqa: E402
from airflow.sensors.bash import BashSensor  # noqa: E402
from airflow.utils.trigger_rule import TriggerRule  # noqa: E402
from standin_runner import (  # noqa: E402
    FAILED, SKIPPED, SUCCESS, UP_FOR_RESCHEDULE, UPSTREAM_FAILED, Connection, DagRun)

FEDLAKE = os.environ.get("FEDLAKE", str(REPO / "bin" / "fedlake"))
VERBOSE = os.environ.get("FEDLAKE_DAG_TEST_VERBOSE") == "1"


def load_dag(file_name):
    """Loads one DAG file; any process started while it loads fails the test."""

    def forbidden(*args, **kwargs):
        raise AssertionError(f"{file_name} starts a process at import time: {args[:1]}")

    path = DAGS / file_name
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    with mock.patch.object(subprocess, "Popen", side_effect=forbidden), \
            mock.patch.object(os, "system", side_effect=forbidden):
        spec.loader.exec_module(module)
    dags = [value for value in vars(module).values() if isinstance(value, DAG)]
    assert len(dags) == 1, f"{file_name} defines {len(dags)} DAGs"
    return dags[0]


def edges(dag):
    return {(up, task.task_id) for task in dag.tasks for up in task.upstream_task_ids}


def snapshot(store):
    """Every file under the store with the SHA-256 of its content."""
    files = {}
    for path in sorted(Path(store).rglob("*")):
        if path.is_file():
            files[str(path.relative_to(store))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return files


def log(text):
    if VERBOSE:
        print(text, file=sys.stderr)


class DagFilesTest(unittest.TestCase):
    def test_bootstrap_graph(self):
        dag = load_dag("fedlake_bootstrap.py")
        self.assertEqual("fedlake_bootstrap", dag.dag_id)
        self.assertEqual(["synthesize", "init"], dag.topological_order())
        self.assertEqual({("synthesize", "init")}, edges(dag))
        self.assertIsNone(dag.schedule)
        self.assertEqual(1, dag.max_active_runs)
        for name in ("store", "fedlake", "spark_conn_id", "store_conn_id", "text", "per_class", "seed"):
            self.assertIn(name, dag.params)
        for task in dag.tasks:
            self.assertIsInstance(task, BashOperator)
            self.assertGreaterEqual(task.retries, 1, task.task_id)
            self.assertIn("--exists-ok", task.bash_command, task.task_id)
        self.assertIn(" synthesize ", dag.task_dict["synthesize"].bash_command)
        self.assertIn(" init ", dag.task_dict["init"].bash_command)

    def test_round_graph(self):
        dag = load_dag("fedlake_round.py")
        self.assertEqual("fedlake_round", dag.dag_id)
        self.assertEqual(
            ["pin_round", "wait_for_updates", "profiles", "cluster", "round", "evaluate", "report"],
            dag.topological_order())
        self.assertEqual(
            {("pin_round", "wait_for_updates"), ("wait_for_updates", "profiles"), ("profiles", "cluster"),
             ("cluster", "round"), ("wait_for_updates", "round"), ("round", "evaluate"), ("evaluate", "report")},
            edges(dag))
        self.assertEqual(1, dag.max_active_runs)
        self.assertFalse(dag.catchup)
        for name in ("store", "fedlake", "spark_conn_id", "store_conn_id", "clustered"):
            self.assertIn(name, dag.params)
        sensor = dag.task_dict["wait_for_updates"]
        self.assertIsInstance(sensor, BashSensor)
        self.assertEqual(5, sensor.retry_exit_code)
        self.assertEqual("reschedule", sensor.mode)
        self.assertTrue(sensor.soft_fail)
        self.assertIsNone(sensor.env, "BashSensor env would replace the worker's environment")
        aggregate = dag.task_dict["round"]
        self.assertEqual([3, 4], aggregate.skip_on_exit_code)
        self.assertEqual(TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS, aggregate.trigger_rule)
        for task in dag.tasks:
            self.assertGreaterEqual(task.retries, 1, task.task_id)
            if task.task_id not in ("pin_round", "report"):  # report: the whole round table
                self.assertIn("--round {{ ti.xcom_pull(task_ids='pin_round') | sh }}",
                              task.bash_command.replace("--audit", "--round"), task.task_id)

    def test_commands_render_connections_and_quote_params(self):
        dag = load_dag("fedlake_round.py")
        run = DagRun(
            dag,
            conf={"store": "/data/my store", "fedlake": "/opt/fedlake/bin/fedlake",
                  "spark_conn_id": "spark", "store_conn_id": "minio"},
            connections={"spark": Connection(host="spark://master", port=7077),
                         "minio": Connection(login="AKIA1", password="s3cr$t",
                                             extra={"endpoint_url": "http://minio:9000"})})
        run.xcom["pin_round"] = "7"
        command = run.render("round", dag.task_dict["round"].bash_command)
        self.assertIn("export AWS_ACCESS_KEY_ID=AKIA1 AWS_SECRET_ACCESS_KEY='s3cr$t' "
                      "FEDLAKE_S3_ENDPOINT=http://minio:9000 AWS_REGION=''", command)
        self.assertIn("export FEDLAKE_SPARK_MASTER=spark://master:7077", command)
        self.assertTrue(command.rstrip().endswith(
            "/opt/fedlake/bin/fedlake round --store '/data/my store' --round 7"), command)
        # no connection named: no exports, the worker's own environment
        plain = DagRun(dag, conf={"store": "s3a://b/f"})
        plain.xcom["pin_round"] = "0"
        self.assertEqual("fedlake round-ready --store s3a://b/f --round 0",
                         plain.render("wait_for_updates", dag.task_dict["wait_for_updates"].bash_command))
        self.assertIn("exit 99", plain.render("profiles", dag.task_dict["profiles"].bash_command))
        clustered = DagRun(dag, conf={"store": "s3a://b/f", "clustered": True, "cluster_options": "--k 2"})
        clustered.xcom["pin_round"] = "0"
        self.assertEqual("fedlake cluster --store s3a://b/f --round 0 --k 2",
                         clustered.render("cluster", dag.task_dict["cluster"].bash_command).strip())


class DagRunTest(unittest.TestCase):
    """The DAGs' commands against a local store with the real fedlake."""

    @classmethod
    def setUpClass(cls):
        cls.work = Path(tempfile.mkdtemp(prefix="fedlake-dag-test-"))
        rng = np.random.default_rng(5)
        classes, dim = 3, 8
        centers = rng.normal(size=(classes, dim))
        np.save(cls.work / "text.npy", (centers / np.linalg.norm(centers, axis=1, keepdims=True)).astype(np.float32))
        for site in ("a", "b"):
            (cls.work / site).mkdir()
            labels = rng.integers(0, classes, 60)
            features = centers[labels] + 0.3 * rng.normal(size=(60, dim))
            np.save(cls.work / site / "X.npy", features.astype(np.float32))
            np.save(cls.work / site / "y.npy", labels.astype(np.int64))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.work, ignore_errors=True)

    def fedlake(self, *arguments, expect=0):
        done = subprocess.run([FEDLAKE, *arguments], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        log(f"$ fedlake {' '.join(arguments)}\n{done.stdout}")
        self.assertEqual(expect, done.returncode, done.stdout)
        return done.stdout

    def retried(self, run, store, check_store=True):
        """For DagRun.run(after_task=...): runs each task a second time right after it ran, before
        anything downstream (a retry after its success was lost): same state, and unless the task
        rewrites its round's files on purpose, the store as it was."""

        def again(task_id):
            state = run.states[task_id]
            before = snapshot(store)
            self.assertEqual(state, run.execute(task_id), f"retry of {task_id}:\n{run.outputs[task_id]}")
            if check_store:
                self.assertEqual(before, snapshot(store), f"retry of {task_id} changed the store")
            self.retries.append(task_id)

        return again

    def rerun_from(self, run, store, first):
        """Runs `first` and every task after it again, in order (a cleared run, pinned round kept)."""
        before = snapshot(store)
        order = run.dag.topological_order()
        for task_id in order[order.index(first):]:
            state = run.states[task_id]
            self.assertEqual(state, run.execute(task_id), f"rerun of {task_id}:\n{run.outputs[task_id]}")
            self.assertEqual(before, snapshot(store), f"rerun of {task_id} changed the store")

    def test_bootstrap_then_rounds(self):
        self.retries = []
        store = self.work / "store"
        connections = {"spark_local": Connection(host="local[2]")}
        common = {"store": str(store), "fedlake": FEDLAKE, "spark_conn_id": "spark_local"}

        # bootstrap: synthesize -> init, then every task again
        bootstrap = DagRun(
            load_dag("fedlake_bootstrap.py"),
            conf={**common, "text": str(self.work / "text.npy"), "table": "boot", "per_class": 20, "seed": 1,
                  "init_options": "--min-sites 2 --round-deadline 86400"},
            connections=connections, log=log)
        self.assertEqual({"synthesize": SUCCESS, "init": SUCCESS},
                         bootstrap.run(after_task=self.retried(bootstrap, store)), bootstrap.outputs)
        self.assertEqual(["synthesize", "init"], self.retries)
        self.assertTrue((store / "synthetic" / "boot.parquet").is_file())
        self.assertIn("Kept the existing table", bootstrap.outputs["synthesize"])
        self.assertIn("was initialised by this same command already", bootstrap.outputs["init"])
        self.assertIn("round=0", (store / "models" / "_LATEST").read_text())

        # round 0: one site of the two the spec asks for -> the sensor says wait
        dag = load_dag("fedlake_round.py")
        self.fedlake("edge", "train", "--store", str(store), "--site", "a", "--data", str(self.work / "a"),
                     "--state-dir", str(self.work / "state"))
        run = DagRun(dag, conf=common, connections=connections, log=log)
        states = run.run(after_task=self.retried(run, store))
        self.assertEqual({"pin_round": SUCCESS, "wait_for_updates": UP_FOR_RESCHEDULE}, states, run.outputs)
        self.assertEqual("0", run.xcom["pin_round"])
        self.assertEqual(5, run.codes["wait_for_updates"])
        self.assertIn("Round 0 is not ready: 1 site(s) with an update, the spec asks for 2",
                      run.outputs["wait_for_updates"])
        self.assertFalse((store / "models" / "round-000001").exists())

        # the second site: the next poke says ready, the round publishes
        self.fedlake("edge", "train", "--store", str(store), "--site", "b", "--data", str(self.work / "b"),
                     "--state-dir", str(self.work / "state"))
        del self.retries[:]
        states = run.run(after_task=self.retried(run, store))
        self.assertEqual(
            {"pin_round": SUCCESS, "wait_for_updates": SUCCESS, "profiles": SKIPPED, "cluster": SKIPPED,
             "round": SUCCESS, "evaluate": SUCCESS, "report": SUCCESS}, states, run.outputs)
        # cluster is skipped by its trigger rule (profiles skipped), so it never runs its command
        self.assertEqual(["wait_for_updates", "profiles", "round", "evaluate", "report"], self.retries)
        self.assertIn("Round 0 is ready: 2 site(s) with an update", run.outputs["wait_for_updates"])
        rounds = [(code, output) for task, code, _, output in run.attempts if task == "round"]
        self.assertEqual(2, len(rounds))
        self.assertEqual(0, rounds[0][0])
        self.assertIn("Round 0: published", rounds[0][1])  # the first try published ...
        self.assertIn("Round 0 was aggregated already", rounds[1][1])  # ... its retry found it done
        self.assertIn("Round 0, cluster 0: model r1-c0-", run.outputs["evaluate"])
        self.assertIn("Report written to " + str(store / "reports" / "index.html"), run.outputs["report"])
        self.assertIn("<svg class=\"plot\" id=\"plot-participation\"",
                      (store / "reports" / "index.html").read_text(encoding="utf-8"))
        self.assertRegex(self.fedlake("history", "--store", str(store)), r"\n +0 +0 published +fedavg +1 +2 +0 ")
        self.assertIn("round=1", (store / "models" / "_LATEST").read_text())
        history = snapshot(store)["history/round-000000.parquet"]
        # the run cleared from the sensor on (its pinned round kept): nothing is aggregated twice
        self.rerun_from(run, store, "wait_for_updates")
        self.assertIn("Round 0 was aggregated already", run.outputs["wait_for_updates"])
        self.assertIn("Round 0 was aggregated already", run.outputs["round"])
        self.assertIn("round=1", (store / "models" / "_LATEST").read_text())
        self.assertEqual(history, snapshot(store)["history/round-000000.parquet"])

        # round 1: the deadline (1 s after the round-1 model; several commands ago) has passed and one
        # site sent a file, so the sensor says go; the file is broken, the round publishes nothing
        # (exit 3) and the task is skipped, with evaluate and report
        self.fedlake("spec", "set", "--store", str(store), "--round-deadline", "1")
        broken = store / "updates" / "round-000001" / "c--0001.parquet"
        broken.parent.mkdir(parents=True)
        broken.write_bytes(b"not a parquet file")
        late = DagRun(dag, conf=common, connections=connections, log=log)
        # a retried round rewrites the round's history and audit (new check times): no store check
        states = late.run(after_task=self.retried(late, store, check_store=False))
        self.assertEqual(
            {"pin_round": SUCCESS, "wait_for_updates": SUCCESS, "profiles": SKIPPED, "cluster": SKIPPED,
             "round": SKIPPED, "evaluate": SKIPPED, "report": SKIPPED}, states, late.outputs)
        self.assertEqual("1", late.xcom["pin_round"])
        self.assertIn("Round 1 is ready: its deadline", late.outputs["wait_for_updates"])
        self.assertEqual(3, late.codes["round"])
        self.assertIn("round=1", (store / "models" / "_LATEST").read_text())
        audit = self.fedlake("history", "--store", str(store), "--audit", "1")
        self.assertRegex(audit, r"rejected +c +\S*c--0001\.parquet")

        # a folder that is not a federation fails the run at its first task, everything after it
        # upstream_failed; and the sensor fails outright there (exit 2), it does not poke again
        empty = DagRun(dag, conf={**common, "store": str(self.work / "empty")}, connections=connections, log=log)
        states = empty.run()
        self.assertEqual(FAILED, states.pop("pin_round"))
        self.assertEqual({UPSTREAM_FAILED}, set(states.values()))
        self.assertEqual(2, empty.codes["pin_round"])
        empty.xcom["pin_round"] = "0"
        self.assertEqual(FAILED, empty.execute("wait_for_updates"))
        self.assertEqual(2, empty.codes["wait_for_updates"])
        self.assertIn("No model published yet", empty.outputs["wait_for_updates"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
