"""Prices and sizes reach what estimates and charges costs: every service function and the Fargate worker."""

from collections.abc import Callable
from typing import Any

from infra.settings import DeploymentSettings
from tests.infra.conftest import Synthesized
from transcoder.pricing import Prices

COST_VARIABLES = (
    "PRICES", "ARCHITECTURE", "STEP_MEMORY_MB", "TRANSCODE_MEMORY_MB", "CHUNK_MEMORY_MB", "JOIN_MEMORY_MB",
    "WORKER_CPU", "WORKER_MEMORY_MIB", "WORKER_EPHEMERAL_STORAGE_GIB",
)  # fmt: skip


def _worker_environment(synthesized: Synthesized) -> dict[str, Any]:
    (definition,) = synthesized.resources("AWS::ECS::TaskDefinition").values()
    (container,) = definition["Properties"]["ContainerDefinitions"]
    return {pair["Name"]: pair["Value"] for pair in container["Environment"]}


def test_every_function_and_the_worker_get_the_prices_and_sizes(synthesized: Synthesized) -> None:
    expected = DeploymentSettings().cost_environment()
    assert set(expected) == set(COST_VARIABLES)
    environments = [f["Properties"]["Environment"]["Variables"] for f in synthesized.domain_functions().values()]
    for variables in [*environments, _worker_environment(synthesized)]:
        assert {name: variables[name] for name in COST_VARIABLES} == expected
    assert Prices.from_env(expected["PRICES"]) == Prices()


def test_an_operators_prices_reach_the_functions(synth_variant: Callable[..., Synthesized]) -> None:
    variant = synth_variant({"transcoder": {"price_lambda_gb_second_x86_64": 0.0000175, "worker_cpu": 2048,
                                            "worker_memory_mib": 4096}})  # fmt: skip
    for function in variant.domain_functions().values():
        prices = Prices.from_env(function["Properties"]["Environment"]["Variables"]["PRICES"])
        assert prices.lambda_gb_second_x86_64 == 0.0000175
    worker = _worker_environment(variant)
    assert (worker["WORKER_CPU"], worker["WORKER_MEMORY_MIB"]) == ("2048", "4096")
