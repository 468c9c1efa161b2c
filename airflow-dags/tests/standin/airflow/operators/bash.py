from airflow.models.baseoperator import BaseOperator


class BashOperator(BaseOperator):
    """Runs bash_command (templated) with `bash -c`; exit 0 succeeds and pushes the last output line
    to XCom, skip_on_exit_code (default 99) skips, anything else fails."""

    template_fields = ("bash_command", "env")

    def __init__(self, *, bash_command, env=None, append_env=False, skip_on_exit_code=99, cwd=None, **kwargs):
        self.bash_command = bash_command
        self.env = env
        self.append_env = append_env
        self.skip_on_exit_code = skip_on_exit_code
        self.cwd = cwd
        super().__init__(**kwargs)

    def _own_arguments(self):
        return ("bash_command", "env", "append_env", "skip_on_exit_code", "cwd")
