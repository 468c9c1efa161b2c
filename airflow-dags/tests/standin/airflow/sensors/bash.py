from airflow.sensors.base import BaseSensorOperator


class BashSensor(BaseSensorOperator):
    """Pokes bash_command: exit 0 is done; retry_exit_code means poke again later; with a
    retry_exit_code any other code fails the task (without one, any non-zero code pokes again).
    env, when given, replaces the worker's environment."""

    template_fields = ("bash_command", "env")

    def __init__(self, *, bash_command, env=None, output_encoding="utf-8", retry_exit_code=None, **kwargs):
        self.bash_command = bash_command
        self.env = env
        self.output_encoding = output_encoding
        self.retry_exit_code = retry_exit_code
        super().__init__(**kwargs)

    def _own_arguments(self):
        return super()._own_arguments() + ("bash_command", "env", "output_encoding", "retry_exit_code")
