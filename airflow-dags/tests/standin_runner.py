"""Runs the tasks of a DAG loaded against the Airflow stand-in the way the Airflow docs describe a DAG
run: templates rendered with Jinja (params, ti.xcom_pull, conn.get, the DAG's user_defined_filters),
each command through `bash -c` in a fresh temporary folder with stdout and stderr merged, exit codes
mapped to task states, trigger rules deciding what runs or is skipped. Not modelled: the scheduler,
timeouts (a sensor's soft-fail after `timeout`), pools, retries by the scheduler (the test re-runs
tasks itself), Airflow's own secret masking.
"""

from __future__ import annotations

import os
import subprocess
import tempfile

import jinja2
from airflow.operators.bash import BashOperator
from airflow.sensors.bash import BashSensor
from airflow.utils.trigger_rule import TriggerRule

SUCCESS, SKIPPED, FAILED, UPSTREAM_FAILED, UP_FOR_RESCHEDULE = (
    "success", "skipped", "failed", "upstream_failed", "up_for_reschedule")
DONE = {SUCCESS, SKIPPED, FAILED, UPSTREAM_FAILED}


class Connection:
    def __init__(self, host=None, port=None, login=None, password=None, extra=None):
        self.host, self.port, self.login, self.password = host, port, login, password
        self.extra_dejson = dict(extra or {})


class _Connections:
    def __init__(self, connections):
        self._connections = connections

    def get(self, conn_id):
        if conn_id not in self._connections:
            raise KeyError(f"The conn_id `{conn_id}` isn't defined")  # Airflow: AirflowNotFoundException
        return self._connections[conn_id]


class _TaskInstance:
    def __init__(self, run):
        self._run = run

    def xcom_pull(self, task_ids):
        return self._run.xcom.get(task_ids)


class DagRun:
    def __init__(self, dag, conf=None, connections=None, log=None):
        self.dag = dag
        unknown = set(conf or {}) - set(dag.params)
        if unknown:
            raise KeyError(f"conf names params the DAG does not have: {sorted(unknown)}")
        self.params = {name: param.value for name, param in dag.params.items()}
        self.params.update(conf or {})
        self.connections = _Connections(connections or {})
        self.states = {}
        self.xcom = {}
        self.outputs = {}
        self.codes = {}
        self.attempts = []  # (task id, exit code, state, output) of every execution, in order
        self.log = log or (lambda text: None)
        self.jinja = jinja2.Environment(undefined=jinja2.StrictUndefined)
        self.jinja.filters.update(dag.user_defined_filters)

    def render(self, task_id, text):
        return self.jinja.from_string(text).render(
            params=self.params, ti=_TaskInstance(self), conn=self.connections, run_id="standin",
            dag=self.dag, task=self.dag.task_dict[task_id])

    def execute(self, task_id):
        """Runs one task now, whatever its upstream states (a retry or a cleared task)."""
        task = self.dag.task_dict[task_id]
        if not isinstance(task, (BashOperator, BashSensor)):
            raise TypeError(f"the stand-in runs bash tasks only, not {type(task).__name__}")
        command = self.render(task_id, task.bash_command)
        env = None if task.env is None else {k: self.render(task_id, v) for k, v in task.env.items()}
        if isinstance(task, BashOperator) and env is not None and task.append_env:
            env = {**os.environ, **env}
        with tempfile.TemporaryDirectory(prefix="airflowtmp") as cwd:
            done = subprocess.run(["bash", "-c", command], cwd=cwd, env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True)
        output = done.stdout
        lines = [line.rstrip() for line in output.splitlines()]
        code = done.returncode
        if isinstance(task, BashSensor):
            if code == 0:
                state = SUCCESS
            elif task.retry_exit_code is None or code == task.retry_exit_code:
                state = UP_FOR_RESCHEDULE
            else:
                state = FAILED  # AirflowFailException: no retries
        elif code == 0:
            state = SUCCESS
            if task.do_xcom_push:
                self.xcom[task_id] = lines[-1] if lines else ""
        elif code in (task.skip_on_exit_code if isinstance(task.skip_on_exit_code, (list, tuple, set)) else [task.skip_on_exit_code]):
            state = SKIPPED
        else:
            state = FAILED
        self.states[task_id] = state
        self.outputs[task_id] = output
        self.codes[task_id] = code
        self.attempts.append((task_id, code, state, output))
        self.log(f"[{self.dag.dag_id}] {task_id}: exit {code} -> {state}\n$ {command.strip()}\n{output}")
        return state

    def _decide(self, task_id):
        """What the task's trigger rule says now: 'run', a final state, or None (wait)."""
        task = self.dag.task_dict[task_id]
        upstream = [self.states.get(t) for t in task.upstream_task_ids]
        if any(s not in DONE for s in upstream):
            return None
        failed = any(s in (FAILED, UPSTREAM_FAILED) for s in upstream)
        if task.trigger_rule == TriggerRule.ALL_SUCCESS:
            if failed:
                return UPSTREAM_FAILED
            return SKIPPED if any(s == SKIPPED for s in upstream) else "run"
        if task.trigger_rule == TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS:
            if failed:
                return UPSTREAM_FAILED
            return "run" if any(s == SUCCESS for s in upstream) or not upstream else SKIPPED
        if task.trigger_rule == TriggerRule.NONE_FAILED:
            return UPSTREAM_FAILED if failed else "run"
        if task.trigger_rule == TriggerRule.ALL_DONE:
            return "run"
        raise ValueError(f"stand-in: trigger rule {task.trigger_rule} not modelled")

    def run(self, after_task=None):
        """Runs every task whose turn has come, in the graph's order, until all are done or a sensor
        must poke again later (one poke per call); calls after_task(task_id) after each task that
        ran, before anything downstream of it. Returns the states."""
        for task_id in self.dag.topological_order():
            if self.states.get(task_id) in DONE:
                continue
            decision = self._decide(task_id)
            if decision is None:
                continue
            if decision != "run":
                self.states[task_id] = decision
                self.log(f"[{self.dag.dag_id}] {task_id}: {decision} (trigger rule {self.dag.task_dict[task_id].trigger_rule.value})")
                continue
            self.execute(task_id)
            if after_task is not None:
                after_task(task_id)
        return dict(self.states)
