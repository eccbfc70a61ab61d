"""Local mode reads from the deployed definition which functions a Distributed Map runs for its items, and lets
only those run several invocations at once: the chunk encoder (and its failure record), no other step."""

import json

from localmode.emulator import distributed_item_functions
from localmode.template import LocalTemplate
from tests.infra.conftest import Synthesized


def test_only_the_chunk_map_functions_run_in_parallel_locally(synthesized: Synthesized) -> None:
    (machine,) = synthesized.resources("AWS::StepFunctions::StateMachine").values()
    local = LocalTemplate(synthesized.template_dict)
    definition = json.loads(local.resolve(machine["Properties"]["DefinitionString"]))
    in_the_map = ("handlers.pipeline.encode_chunk", "handlers.pipeline.record_failure")
    assert distributed_item_functions(definition) == {
        local.arn(synthesized.function_by_handler(handler)[0]) for handler in in_the_map
    }
