"""fedlake_bootstrap: start a federation whose round-0 head is trained on synthetic embeddings.

    synthesize  ->  init

`synthesize` writes a class-balanced synthetic table from class text embeddings into the store
(ROOT/synthetic/TABLE.parquet); `init` writes the federation spec (version 1) and the round-0 model
trained on that table, then moves the model pointer. Trigger it once per federation, with the params
below. Both tasks are safe to retry: `--exists-ok` keeps a table made with the same settings and a
federation initialised by the same command line (exit 0); anything else in the way still fails.
"""

from __future__ import annotations

import datetime as dt

from airflow import DAG
from airflow.models.param import Param
from airflow.operators.bash import BashOperator

from fedlake_common import COMMON_PARAMS, DEFAULT_ARGS, FILTERS, fedlake

with DAG(
    dag_id="fedlake_bootstrap",
    description="synthesize -> init: a new federation with a round-0 head trained on synthetic embeddings",
    doc_md=__doc__,
    schedule=None,  # once per federation, triggered by hand or by the API
    start_date=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    user_defined_filters=FILTERS,
    params={
        **COMMON_PARAMS,
        "text": Param(
            "s3a://my-bucket/class-text-embeddings.npy",
            type="string",
            description="Class text embeddings (.npy classes x dim, or Parquet DatasetRow with label = class).",
        ),
        "table": Param("bootstrap", type="string", description="Name of the synthetic table in the store."),
        "per_class": Param(100, type="integer", minimum=1, description="Synthetic rows per class."),
        "seed": Param(0, type="integer", description="Seed of the synthetic table and of the bootstrap training."),
        "init_options": Param(
            "",
            type="string",
            description="More init options, e.g. '--strategy scaffold --sites a,b,c --min-sites 3 "
            "--round-deadline 86400' (fedlake init --help).",
        ),
    },
    tags=["fedlake"],
) as dag:
    synthesize = BashOperator(
        task_id="synthesize",
        bash_command=fedlake(
            "synthesize --store {{ params.store | sh }} --source text --text {{ params.text | sh }}"
            " --name {{ params.table | sh }} --per-class {{ params.per_class }} --seed {{ params.seed }}"
            " --exists-ok"
        ),
    )
    init = BashOperator(
        task_id="init",
        bash_command=fedlake(
            "init --store {{ params.store | sh }} --bootstrap synthetic --synthetic {{ params.table | sh }}"
            " --seed {{ params.seed }} {{ params.init_options }} --exists-ok"
        ),
    )

    synthesize >> init
