"""The stack on paper, checked offline: every YAML parses, the Kubernetes manifests pass the API's
schemas, and the probes, ports, paths, variables and secrets agree with the code."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from packaging.requirements import Requirement

from serving.auth import OPEN
from serving.env_files import SECRET_VARIABLES, SUFFIX

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
MANIFESTS = sorted((DEPLOY / "k8s").glob("*.yaml"))
PORT = 3000


def _documents(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]


def _kind(kind: str) -> dict[str, Any]:
    return next(d for path in MANIFESTS for d in _documents(path) if d["kind"] == kind)


def _variables_the_code_reads() -> set[str]:
    """Every `CX_…` and `MLFLOW_…` name written in the packages' source, plus MLflow's own client's."""
    pattern = re.compile(r"\b((?:CX|MLFLOW)_[A-Z0-9_]+)\b")
    names = {
        m
        for p in ("features", "models", "serving", "pipelines")
        for f in (ROOT / p).rglob("*.py")
        for m in pattern.findall(f.read_text(encoding="utf-8"))
    }
    return names | {"MLFLOW_TRACKING_TOKEN", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"}


def _check_variable(name: str) -> None:
    base = name.removesuffix(SUFFIX)
    if name.endswith(SUFFIX):
        assert base in SECRET_VARIABLES, f"{name}: the code reads no such file variable"
    else:
        assert name in _variables_the_code_reads(), f"{name}: the code reads no such variable"


@pytest.mark.parametrize("path", [*sorted(DEPLOY.rglob("*.yaml")), ROOT / "bentofile.yaml"], ids=str)
def test_every_yaml_file_parses(path: Path) -> None:
    assert _documents(path)


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_each_manifest_passes_the_kubernetes_api_schema_strictly(path: Path) -> None:
    for document in _documents(path):
        kubernetes_validate.validate(document, kubernetes_validate.latest_version(), strict=True)


def test_the_probes_ports_and_variables_of_the_deployment_match_the_service() -> None:
    container = _kind("Deployment")["spec"]["template"]["spec"]["containers"][0]
    assert container["livenessProbe"]["httpGet"]["path"] == "/livez"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert {"/livez", "/readyz"} <= OPEN  # a kubelet presents no key
    assert container["ports"] == [{"name": "http", "containerPort": PORT}]
    assert container["args"][-2:] == ["--port", str(PORT)]
    assert _kind("Service")["spec"]["ports"][0]["targetPort"] == "http"
    for variable in container["env"]:
        _check_variable(variable["name"])


def test_every_secret_file_variable_names_a_mounted_secret_key() -> None:
    spec = _kind("Deployment")["spec"]["template"]["spec"]
    container = spec["containers"][0]
    mount = next(m["mountPath"] for m in container["volumeMounts"] if m["name"] == "secrets")
    items = {i["path"] for v in spec["volumes"] if v["name"] == "secrets" for i in v["secret"]["items"]}
    files = [v["value"] for v in container["env"] if v["name"].endswith(SUFFIX)]
    assert files and all(f == f"{mount}/{Path(f).name}" and Path(f).name in items for f in files)


def test_replicas_share_a_postgres_state_and_one_workspace() -> None:
    spec = _kind("Deployment")["spec"]
    variables = {v["name"] for v in spec["template"]["spec"]["containers"][0]["env"]}
    assert "CX_DATABASE_URL_FILE" in variables  # SQLite is served by one process only
    assert 2 <= _kind("HorizontalPodAutoscaler")["spec"]["minReplicas"] <= spec["replicas"]
    assert spec["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    assert _kind("PersistentVolumeClaim")["spec"]["accessModes"][0] in ("ReadWriteMany", "ReadOnlyMany")


def test_compose_serves_on_the_port_with_its_secrets_and_known_variables() -> None:
    compose = _documents(DEPLOY / "compose.yaml")[0]
    service = compose["services"]["cxpredict"]
    assert service["ports"] == [f"{PORT}:{PORT}"] and "/readyz" in " ".join(service["healthcheck"]["test"])
    assert set(service["secrets"]) <= set(compose["secrets"])
    for name, value in service["environment"].items():
        _check_variable(name)
        if name.endswith(SUFFIX):
            assert Path(value).name in service["secrets"] and value.startswith("/run/secrets/")


def test_the_dockerfile_exposes_and_serves_the_port_with_the_locked_requirements() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    assert f"EXPOSE {PORT}" in dockerfile and f'"--port", "{PORT}"' in dockerfile
    assert 'ENTRYPOINT ["cxpredict", "serve"]' in dockerfile
    assert "-r deploy/requirements.lock.txt" in dockerfile


def test_the_lock_pins_every_runtime_dependency_of_the_project() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    lines = (DEPLOY / "requirements.lock.txt").read_text(encoding="utf-8").splitlines()
    pinned = {line.split("==")[0] for line in lines if "==" in line}
    wanted = {re.sub(r"[-_.]+", "-", Requirement(r).name).lower() for r in project["dependencies"]}
    assert wanted <= pinned, wanted - pinned
    bentofile = _documents(ROOT / "bentofile.yaml")[0]
    assert bentofile["python"] == bentofile["python"] | {
        "requirements_txt": "deploy/requirements.lock.txt",
        "lock_packages": False,  # BentoML's locking would ask an index
    }
