"""fedlake_round: aggregate one round of a federation.

    pin_round -> wait_for_updates -> profiles -> cluster -> round -> evaluate -> report
                        \\_______________________________/^

Each run is about exactly one round: `pin_round` reads the current round from the store (its XCom)
and every later task names it (`--round R`), so a retry or a cleared task never moves on to the
next round. `wait_for_updates` pokes `fedlake round-ready` until the spec's round policy says the
round may be aggregated (at least min-sites sites sent an update, or the round deadline passed and
at least one did; the round job applies the same rule); it gives up after its timeout and the run
is skipped; the next scheduled run looks at the same round again. `profiles` and `cluster` run only
for clustered federations (param `clustered`), otherwise they are skipped and `round` follows the
sensor directly. `round` exits 3 when it published nothing (no valid update, or fewer than
min-sites before the deadline): the task is skipped, and so are `evaluate` and `report`.

`evaluate` prints the round's evaluation (`fedlake evaluation show`: test accuracy on the registered
evaluation set, the sites' holdout accuracy spread, accuracy per class); `report` rewrites the HTML round
report (`fedlake report`) into param `report_dir`, by default the store's `reports/` folder
(docs/report.md).

Every task is one `fedlake` command and safe to retry: `round --round R` for a round that was
published already does nothing, and the others only read or rewrite the round's own files.
"""

from __future__ import annotations

import datetime as dt

from airflow import DAG
from airflow.models.param import Param
from airflow.operators.bash import BashOperator
from airflow.sensors.bash import BashSensor
from airflow.utils.trigger_rule import TriggerRule

from fedlake_common import COMMON_PARAMS, DEFAULT_ARGS, FILTERS, LOST_RACE, NO_VALID_UPDATE, NOT_READY, SKIP, fedlake

ROUND = "{{ ti.xcom_pull(task_ids='pin_round') | sh }}"
STORE = "{{ params.store | sh }}"
REPORT_DIR = "{{ (params.report_dir or (params.store ~ '/reports')) | sh }}"

with DAG(
    dag_id="fedlake_round",
    description="wait for updates -> (profiles -> cluster) -> round -> evaluate -> report, one round a run",
    doc_md=__doc__,
    schedule="@hourly",  # each run checks the current round; at most one at a time
    start_date=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    user_defined_filters=FILTERS,
    params={
        **COMMON_PARAMS,
        "clustered": Param(
            False, type="boolean", description="Run profiles and cluster before the round (clustered federations)."
        ),
        "cluster_options": Param(
            "", type="string", description="More cluster options, e.g. '--k auto --min-size 2' (fedlake cluster --help)."
        ),
        "round_options": Param(
            "", type="string", description="More round options, e.g. '--calibrate' (fedlake round --help)."
        ),
        "report_dir": Param(
            "",
            type="string",
            description="Where `report` writes index.html (a local folder or a store-like URI); empty: STORE/reports.",
        ),
    },
    tags=["fedlake"],
) as dag:
    pin_round = BashOperator(
        task_id="pin_round",
        bash_command=fedlake(f"current-round --store {STORE}"),
        do_xcom_push=True,  # the last output line: the round number
    )
    wait_for_updates = BashSensor(
        task_id="wait_for_updates",
        bash_command=fedlake(f"round-ready --store {STORE} --round {ROUND}"),
        retry_exit_code=NOT_READY,  # 5: poke again; any other failure fails the task
        mode="reschedule",  # free the worker slot between pokes
        poke_interval=5 * 60,
        timeout=55 * 60,  # give up before the next hourly run is due ...
        soft_fail=True,  # ... as skipped: a round without enough updates is not an error
    )
    profiles = BashOperator(
        task_id="profiles",
        bash_command=(
            "{% if params.clustered %}"
            + fedlake(f"profiles --store {STORE} --round {ROUND}")
            + "{% else %}echo 'not a clustered federation (param clustered is false): skipped'; exit "
            + str(SKIP)
            + "{% endif %}"
        ),
        skip_on_exit_code=SKIP,
    )
    cluster = BashOperator(
        task_id="cluster",
        bash_command=(
            "{% if params.clustered %}"
            + fedlake(f"cluster --store {STORE} --round {ROUND} {{{{ params.cluster_options }}}}")
            + "{% else %}echo 'not a clustered federation (param clustered is false): skipped'; exit "
            + str(SKIP)
            + "{% endif %}"
        ),
        skip_on_exit_code=SKIP,
    )
    aggregate = BashOperator(
        task_id="round",
        bash_command=fedlake(f"round --store {STORE} --round {ROUND} {{{{ params.round_options }}}}"),
        # nothing published, or another job on the same round published it
        skip_on_exit_code=[NO_VALID_UPDATE, LOST_RACE],
        # after the sensor, and after cluster when it ran; skipped when the sensor was
        trigger_rule=TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS,
    )
    evaluate = BashOperator(
        task_id="evaluate",
        bash_command=fedlake(f"evaluation show --store {STORE} --round {ROUND}"),
    )
    report = BashOperator(
        task_id="report",
        bash_command=fedlake(f"report --store {STORE} --out {REPORT_DIR}"),
    )

    pin_round >> wait_for_updates >> profiles >> cluster >> aggregate
    wait_for_updates >> aggregate
    aggregate >> evaluate >> report
