"""Target `kubeflow`: a Kubeflow Pipelines v2 pipeline (train -> compress -> deploy) compiled with the kfp SDK,
and a Kubeflow Trainer job that runs the training under torchrun on a cluster."""

from __future__ import annotations

from pathlib import Path

from tensor_agent.errors import BackendUnavailable
from tensor_agent.tools.deploy.common import image_name, k8s_check
from tensor_agent.tools.deploy.registry import TargetResult, register_target


def _steps(bundle, lineage: list[dict]) -> list[tuple[str, list[str]]]:
    h = bundle.handle
    train = ["tensor-agent", "ask", "@TENSOR train it", "--thread", "pipeline", "--home", "/workspace",
             "--set", f"family={h.family}"] + (["--set", f"dataset={h.dataset}"] if h.dataset else [])
    techniques = [s.get("technique") or s.get("step") for s in lineage if s.get("step") not in ("train", "deploy", None)]
    compress = ["tensor-agent", "ask", "@TENSOR compress it", "--thread", "pipeline", "--home", "/workspace"]
    if techniques:
        compress += ["--set", "technique=" + ",".join(str(t) for t in techniques if t)]
    deploy = ["tensor-agent", "ask", "@TENSOR deploy it with Docker", "--thread", "pipeline", "--home", "/workspace"]
    return [("train", train), ("compress", compress), ("deploy", deploy)]


def compile_pipeline(bundle, lineage: list[dict], image: str, path: Path) -> Path:
    try:
        from kfp import compiler, dsl
    except ImportError:
        raise BackendUnavailable("the kfp SDK is not installed", hint="pip install kfp (the 'deploy' extra)") from None
    steps = _steps(bundle, lineage)

    def component(name: str, argv: list[str]):
        @dsl.container_component
        def step():
            return dsl.ContainerSpec(image=image, command=argv[:1], args=argv[1:])

        step.component_spec.name = name
        return step

    comps = [component(n, a) for n, a in steps]

    @dsl.pipeline(name=f"{image_name(bundle)}-pipeline", description="tensor-agent: train -> compress -> deploy")
    def pipeline():
        prev = None
        for comp in comps:
            task = comp()
            if prev is not None:
                task.after(prev)
            prev = task

    path.parent.mkdir(parents=True, exist_ok=True)
    compiler.Compiler().compile(pipeline_func=pipeline, package_path=str(path))
    return path


def train_job(bundle, image: str, nproc: int = 2, nodes: int = 1) -> dict:
    h = bundle.handle
    cmd = ["torchrun", f"--nproc-per-node={nproc}", "-m", "tensor_agent.tools.core.engine.ddp",
           "--family", h.family] + (["--dataset", h.dataset] if h.dataset else [])
    return {"apiVersion": "trainer.kubeflow.org/v1alpha1", "kind": "TrainJob",
            "metadata": {"name": f"{image_name(bundle)}-train"},
            "spec": {"runtimeRef": {"name": "torch-distributed"},
                     "trainer": {"image": image, "command": cmd, "numNodes": nodes,
                                 "resourcesPerNode": {"requests": {"cpu": str(nproc), "memory": "2Gi"}}}}}


@register_target("kubeflow")
def kubeflow_target(bundle, ctx, options: dict) -> TargetResult:
    import yaml

    out = Path(options["out_dir"]) / "kubeflow"
    image = options.get("image") or f"{image_name(bundle)}:1"
    lineage = list((getattr(ctx, "artifacts", {}) or {}).get("lineage") or [])
    pipe = compile_pipeline(bundle, lineage, image, out / "pipeline.yaml")
    from kfp import components

    components.load_component_from_file(str(pipe))  # the compiled YAML loads back with the SDK
    job = train_job(bundle, image)
    t = job["spec"]["trainer"]
    k8s_check({"name": "trainer", "image": t["image"], "command": t["command"], "resources": t["resourcesPerNode"]},
              "V1Container")
    job_path = out / "trainjob.yaml"
    job_path.write_text(yaml.safe_dump(job, sort_keys=False), encoding="utf-8")
    return TargetResult(target="kubeflow", ok=True, path=str(pipe), files=[str(pipe), str(job_path)],
                        commands=[f"kfp run create --experiment-name tensor --package-file {pipe}   # or upload in the KFP UI",
                                  f"kubectl apply -f {job_path}   # Kubeflow Trainer: torchrun on the cluster"],
                        checks=["pipeline YAML compiled with kfp and loaded back with kfp.components",
                                "TrainJob trainer container deserializes into kubernetes.client V1Container"])
