"""The deployer (`deploy_model`): package the current model for Docker, TorchServe, TF Serving, KServe/Kubernetes
and Kubeflow. Each target is registered with `@register_target`; importing this package imports nothing heavy."""

from __future__ import annotations

from tensor_agent.tools.deploy.registry import DeployReport, TargetResult, get_target, list_targets, register_target

__all__ = ["DeployReport", "TargetResult", "deploy_model", "get_target", "list_targets", "register_target"]


def deploy_model(plan, ctx) -> DeployReport:
    """The deploy tool: see `tensor_agent.tools.deploy.tool.deploy_model`."""
    from tensor_agent.tools.deploy.tool import deploy_model as _deploy

    return _deploy(plan, ctx)
