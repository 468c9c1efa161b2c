import datetime as dt

from airflow.models.param import Param

_current = []

_DAG_ARGUMENTS = {
    "dag_id", "description", "doc_md", "schedule", "start_date", "catchup", "max_active_runs",
    "default_args", "user_defined_filters", "params", "tags",
}


class DAG:
    def __init__(self, dag_id, **kwargs):
        unknown = set(kwargs) - _DAG_ARGUMENTS
        if unknown:
            raise TypeError(f"DAG got unexpected arguments {sorted(unknown)}")
        self.dag_id = dag_id
        self.description = kwargs.get("description")
        self.doc_md = kwargs.get("doc_md")
        self.schedule = kwargs.get("schedule")
        self.start_date = kwargs.get("start_date")
        if self.start_date is not None and self.start_date.tzinfo is None:
            raise TypeError("start_date must be timezone-aware")
        self.catchup = kwargs.get("catchup", True)
        self.max_active_runs = kwargs.get("max_active_runs", 16)
        self.default_args = dict(kwargs.get("default_args") or {})
        self.user_defined_filters = dict(kwargs.get("user_defined_filters") or {})
        self.params = dict(kwargs.get("params") or {})
        for name, value in self.params.items():
            if not isinstance(value, Param):
                self.params[name] = Param(value)
        self.tags = kwargs.get("tags") or []
        self.task_dict = {}

    def __enter__(self):
        _current.append(self)
        return self

    def __exit__(self, *exc):
        _current.pop()
        return False

    def add_task(self, task):
        if task.task_id in self.task_dict:
            raise ValueError(f"duplicate task id {task.task_id!r} in DAG {self.dag_id!r}")
        self.task_dict[task.task_id] = task

    @property
    def tasks(self):
        return list(self.task_dict.values())

    def topological_order(self):
        """Task ids in an order where every task comes after its upstream tasks (ties by definition order)."""
        order, done = [], set()
        remaining = list(self.task_dict)
        while remaining:
            ready = [t for t in remaining if self.task_dict[t].upstream_task_ids <= done]
            if not ready:
                raise ValueError(f"DAG {self.dag_id!r} has a cycle among {remaining}")
            order.append(ready[0])
            done.add(ready[0])
            remaining.remove(ready[0])
        return order


def current_dag():
    return _current[-1] if _current else None


__all__ = ["DAG", "current_dag", "dt"]
