"""Pieces the fedlake DAGs share: the DAG params every task reads and the shell preamble that turns
the two connections into the environment `fedlake` reads.

Nothing here touches a connection, the store or Spark when the module is imported: templates are
rendered by Airflow on the worker when a task runs.
"""

from __future__ import annotations

import datetime as dt
import shlex

from airflow.models.param import Param

# Exit codes of the fedlake CLI (jobs/src/main/java/fedlake/jobs/FedlakeMain.java).
NO_VALID_UPDATE = 3  # `fedlake round`: nothing published (no valid update, or too few before the deadline)
LOST_RACE = 4  # `fedlake round`: another round job on the same round published it (this one wrote nothing)
NOT_READY = 5  # `fedlake round-ready`: the round policy says wait
SKIP = 99  # BashOperator's default skip code, used by tasks that do not apply to this federation

COMMON_PARAMS = {
    "store": Param(
        "s3a://my-bucket/federation",
        type="string",
        description="Store URI of the federation (s3a://bucket/prefix or a local path).",
    ),
    "fedlake": Param(
        "fedlake",
        type="string",
        description="Command that runs fedlake on the worker: bin/fedlake, or "
        "'spark-submit --master yarn --class fedlake.jobs.FedlakeMain .../fedlake-jobs-...-spark.jar'.",
    ),
    "spark_conn_id": Param(
        "",
        type="string",
        description="Spark connection (host[:port] is the master, e.g. local[4], spark://h:7077, yarn) "
        "handed to bin/fedlake as FEDLAKE_SPARK_MASTER; empty: local[*].",
    ),
    "store_conn_id": Param(
        "",
        type="string",
        description="AWS connection for an s3a store: login/password are the access key pair, "
        "extra endpoint_url and region_name the endpoint and region; empty: the worker's own "
        "credentials (environment, instance profile).",
    ),
}

DEFAULT_ARGS = {
    "owner": "fedlake",
    "retries": 2,
    "retry_delay": dt.timedelta(minutes=5),
}

# Jinja filter `sh`: one shell word, whatever the value holds (DAG(user_defined_filters=...)).
FILTERS = {"sh": lambda value: shlex.quote(str(value))}

# Exported at the start of every task's command instead of BashOperator(env=...): BashSensor's env
# replaces the worker's environment (no append_env), so one mechanism serves every task. Blank
# values count as unset for fedlake. Airflow masks connection passwords in logs and rendered fields.
ENVIRONMENT = """\
{% if params.store_conn_id %}{% set s = conn.get(params.store_conn_id) %}\
export AWS_ACCESS_KEY_ID={{ (s.login or '') | sh }} AWS_SECRET_ACCESS_KEY={{ (s.password or '') | sh }} \
FEDLAKE_S3_ENDPOINT={{ s.extra_dejson.get('endpoint_url', '') | sh }} \
AWS_REGION={{ s.extra_dejson.get('region_name', '') | sh }}
{% endif %}\
{% if params.spark_conn_id %}{% set c = conn.get(params.spark_conn_id) %}\
export FEDLAKE_SPARK_MASTER={{ (c.host ~ (':' ~ c.port if c.port else '')) | sh }}
{% endif %}"""


def fedlake(arguments: str) -> str:
    """The command template of one task: the environment, then `fedlake ARGUMENTS`."""
    return ENVIRONMENT + "{{ params.fedlake }} " + arguments
