from airflow.models.baseoperator import BaseOperator


class BaseSensorOperator(BaseOperator):
    def __init__(self, *, poke_interval=60, timeout=7 * 24 * 3600, soft_fail=False, mode="poke", **kwargs):
        if mode not in ("poke", "reschedule"):
            raise ValueError(f"mode must be poke or reschedule, got {mode!r}")
        self.poke_interval = poke_interval
        self.timeout = timeout
        self.soft_fail = soft_fail
        self.mode = mode
        super().__init__(**kwargs)

    def _own_arguments(self):
        return ("poke_interval", "timeout", "soft_fail", "mode")
