"""Imports an Airflow DAG file from deploy/airflow with stand-ins for Airflow, its Kubernetes provider, the
Kubernetes client and pendulum (none is installed here), runs its DAG function, and prints as JSON what each
operator was given: the class, the `.partial(...)` keyword arguments and the `.expand(...)` ones, with every
Kubernetes model or Secret as {"__type__": name, "args": [...], "kwargs": {...}}.

Usage: python3 load_dag.py <dag file>
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import sys
import types

# No __pycache__ beside the DAG: deploy/ holds only the artifacts (test/deploy/artifacts.test.ts lists them).
sys.dont_write_bytecode = True

CALLS: list[dict] = []


class Recorded:
    """A Kubernetes client model, a Secret, a pendulum datetime: what it was built from."""

    def __init__(self, type_name: str, *args, **kwargs) -> None:
        self.type_name = type_name
        self.args = args
        self.kwargs = kwargs


def factory(type_name: str):
    return lambda *args, **kwargs: Recorded(type_name, *args, **kwargs)


class MappedStandIn:
    def __init__(self, operator: type, partial: dict) -> None:
        self.operator = operator
        self.partial = partial
        self.output: list = []

    def expand(self, **kwargs):
        CALLS.append({"operator": self.operator.__name__, "partial": self.partial, "expand": kwargs})
        return self


class KubernetesPodOperator:
    template_fields = ("arguments", "env_vars", "cmds", "image", "labels", "annotations")

    def __init__(self, **kwargs) -> None:
        CALLS.append({"operator": type(self).__name__, "partial": kwargs, "expand": None})

    @classmethod
    def partial(cls, **kwargs) -> MappedStandIn:
        return MappedStandIn(cls, kwargs)

    def cleanup(self, pod, remote_pod) -> None:
        pass


class AirflowException(Exception):
    pass


class AirflowFailException(AirflowException):
    pass


def dag(**_kwargs):
    return lambda fn: fn


def task(fn=None, **_kwargs):
    return fn if fn is not None else (lambda f: f)


def module(name: str, **attrs) -> types.ModuleType:
    mod = types.ModuleType(name)
    mod.__dict__.update(attrs)
    sys.modules[name] = mod
    return mod


class Models(types.ModuleType):
    def __getattr__(self, name: str):
        return factory(name)


for name in ["airflow", "airflow.providers", "airflow.providers.cncf", "airflow.providers.cncf.kubernetes"]:
    module(name)
module("airflow.exceptions", AirflowException=AirflowException, AirflowFailException=AirflowFailException)
module("airflow.providers.cncf.kubernetes.operators")
module("airflow.providers.cncf.kubernetes.operators.pod", KubernetesPodOperator=KubernetesPodOperator)
module("airflow.providers.cncf.kubernetes.secret", Secret=factory("Secret"))
module("airflow.sdk", dag=dag, task=task)
module("airflow.decorators", dag=dag, task=task)
module("pendulum", datetime=factory("datetime"))
models = Models("kubernetes.client.models")
sys.modules["kubernetes.client.models"] = models
module("kubernetes")
module("kubernetes.client", models=models)


def plain(value):
    if isinstance(value, Recorded):
        return {
            "__type__": value.type_name,
            "args": [plain(a) for a in value.args],
            "kwargs": {k: plain(v) for k, v in value.kwargs.items()},
        }
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return sorted(plain(v) for v in value)
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return repr(value)


spec = importlib.util.spec_from_file_location("dag_under_test", sys.argv[1])
dag_module = importlib.util.module_from_spec(spec)
# What the DAG itself prints would spoil the JSON on stdout.
with contextlib.redirect_stdout(sys.stderr):
    spec.loader.exec_module(dag_module)
constants = {k: plain(v) for k, v in vars(dag_module).items() if k.isupper()}
print(json.dumps({"calls": plain(CALLS), "constants": constants}))
