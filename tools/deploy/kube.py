"""Targets `kserve` and `kubernetes`: manifests for the Docker image, checked against the Kubernetes client's types."""

from __future__ import annotations

from pathlib import Path

from tensor_agent.tools.deploy.common import image_name, k8s_check
from tensor_agent.tools.deploy.registry import TargetResult, register_target


def container(bundle, image: str) -> dict:
    return {"name": "model", "image": image, "ports": [{"containerPort": 8080, "protocol": "TCP"}],
            "env": [{"name": "THREADS", "value": "1"}],
            "resources": {"requests": {"cpu": "500m", "memory": "512Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}},
            "readinessProbe": {"httpGet": {"path": "/health", "port": 8080}, "periodSeconds": 5},
            "livenessProbe": {"httpGet": {"path": "/health", "port": 8080}, "periodSeconds": 15},
            "securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "allowPrivilegeEscalation": False}}


def _write(docs: list[dict], path: Path) -> Path:
    import yaml

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False), encoding="utf-8")
    return path


def kubernetes_docs(bundle, image: str) -> list[dict]:
    name = image_name(bundle)
    labels = {"app": name}
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "labels": labels},
                  "spec": {"replicas": 2, "selector": {"matchLabels": labels},
                           "template": {"metadata": {"labels": labels}, "spec": {"containers": [container(bundle, image)]}}}}
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "labels": labels},
               "spec": {"selector": labels, "ports": [{"port": 80, "targetPort": 8080, "protocol": "TCP"}]}}
    return [deployment, service]


def inference_service(bundle, image: str) -> dict:
    return {"apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService",
            "metadata": {"name": image_name(bundle)},
            "spec": {"predictor": {"minReplicas": 1, "containers": [container(bundle, image)]}}}


@register_target("kubernetes")
def kubernetes_target(bundle, ctx, options: dict) -> TargetResult:
    image = options.get("image") or f"{image_name(bundle)}:1"
    docs = kubernetes_docs(bundle, image)
    k8s_check(docs[0], "V1Deployment")
    k8s_check(docs[1], "V1Service")
    path = _write(docs, Path(options["out_dir"]) / "kubernetes" / "deployment.yaml")
    return TargetResult(target="kubernetes", ok=True, path=str(path), files=[str(path)],
                        commands=[f"kubectl apply -f {path}",
                                  f"kubectl port-forward svc/{image_name(bundle)} 8080:80"],
                        checks=["Deployment and Service deserialize into kubernetes.client V1Deployment / V1Service"])


@register_target("kserve")
def kserve_target(bundle, ctx, options: dict) -> TargetResult:
    image = options.get("image") or f"{image_name(bundle)}:1"
    doc = inference_service(bundle, image)
    k8s_check(doc["spec"]["predictor"]["containers"][0], "V1Container")
    k8s_check(doc["metadata"], "V1ObjectMeta")
    path = _write([doc], Path(options["out_dir"]) / "kserve" / "inferenceservice.yaml")
    return TargetResult(target="kserve", ok=True, path=str(path), files=[str(path)],
                        commands=[f"kubectl apply -f {path}", f"kubectl get inferenceservice {image_name(bundle)}"],
                        checks=["the predictor container deserializes into kubernetes.client V1Container"])
