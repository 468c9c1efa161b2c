from airflow.models.dag import current_dag
from airflow.utils.trigger_rule import TriggerRule

_OPERATOR_ARGUMENTS = {
    "task_id", "owner", "retries", "retry_delay", "retry_exponential_backoff", "max_retry_delay",
    "trigger_rule", "doc_md", "execution_timeout", "do_xcom_push", "dag",
}


class BaseOperator:
    template_fields = ()

    def __init__(self, **kwargs):
        dag = kwargs.pop("dag", None) or current_dag()
        if dag is None:
            raise TypeError("operator created outside a DAG")
        merged = {**{k: v for k, v in dag.default_args.items()}, **kwargs}
        unknown = set(merged) - _OPERATOR_ARGUMENTS - set(self._own_arguments())
        if unknown:
            raise TypeError(f"{type(self).__name__} got unexpected arguments {sorted(unknown)}")
        if "task_id" not in merged:
            raise TypeError("task_id is required")
        self.task_id = merged["task_id"]
        self.owner = merged.get("owner", "airflow")
        self.retries = merged.get("retries", 0)
        self.retry_delay = merged.get("retry_delay")
        self.trigger_rule = TriggerRule(merged.get("trigger_rule", TriggerRule.ALL_SUCCESS))
        self.do_xcom_push = merged.get("do_xcom_push", True)
        self.execution_timeout = merged.get("execution_timeout")
        self.upstream_task_ids = set()
        self.downstream_task_ids = set()
        self.dag = dag
        self._arguments = merged
        dag.add_task(self)

    def _own_arguments(self):
        return ()

    def set_downstream(self, other):
        for task in other if isinstance(other, (list, tuple)) else [other]:
            self.downstream_task_ids.add(task.task_id)
            task.upstream_task_ids.add(self.task_id)

    def __rshift__(self, other):
        self.set_downstream(other)
        return other

    def __lshift__(self, other):
        for task in other if isinstance(other, (list, tuple)) else [other]:
            task.set_downstream(self)
        return other

    def __rrshift__(self, other):
        for task in other:
            task.set_downstream(self)
        return self
