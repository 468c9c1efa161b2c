"""A stand-in for the few Airflow classes the fedlake DAGs use, so that the DAG files can be loaded
and their tasks run where Airflow cannot be installed. It models Airflow 2.6+ behaviour as
documented (DAG, Param, BashOperator, BashSensor, TriggerRule); it is not Airflow, and only what the
DAGs use exists. Unknown constructor arguments raise TypeError, as Airflow does.
"""

from airflow.models.dag import DAG

__all__ = ["DAG"]
