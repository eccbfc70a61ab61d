"""The API function's import stays lean: what only some requests need loads with the first of them.

Checked in fresh interpreters by what is in sys.modules, not by timing, so a regression fails every run.
"""

import json
import os
import subprocess
import sys

import pytest

from transcoder.lazy import lazy_import

# Each costs tens to hundreds of milliseconds of import (see README, "Measured figures").
DEFERRED = (
    "boto3",  # the SDK's session layer: imported with the first client
    "aws_lambda_powertools.utilities.idempotency",  # client_token's utility and its DynamoDB persistence layer
    "botocore.client",  # any botocore client, and the service models it reads
    "botocore.config",
    "pynamodb.models",  # the tables: loaded by the first request that reads one
    "urllib3",  # https inputs, logos and storage endpoints: loaded when a URL is checked
    "s3transfer",
    # The documentation's: Powertools' OpenAPI models (~90 ms) and Swagger UI, on the first request for them.
    "aws_lambda_powertools.event_handler.openapi.models",
    "aws_lambda_powertools.event_handler.openapi.swagger_ui",
    "transcoder.api.responses",  # the answers' models: only the document reads them
)


def _modules_after(code: str) -> set[str]:
    """The names in sys.modules after running `code` in a fresh interpreter with the handler's environment."""
    script = f"import json, sys\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", script], env=os.environ, capture_output=True, text=True, check=True)
    return set(json.loads(done.stdout.splitlines()[-1]))


@pytest.fixture(scope="module")
def after_import() -> set[str]:
    return _modules_after("import handlers.api")


@pytest.mark.parametrize("module", DEFERRED)
def test_importing_the_api_function_does_not_load(after_import: set[str], module: str) -> None:
    assert "handlers.api" in after_import
    assert module not in after_import


def test_the_first_table_read_loads_the_models() -> None:
    loaded = _modules_after("import handlers.api\nhandlers.api.tasks.task_view")
    assert "pynamodb.models" in loaded


def test_a_client_token_loads_the_idempotency_layer_on_first_use() -> None:
    loaded = _modules_after("from handlers import client_token\nclient_token.persistence()")
    assert "aws_lambda_powertools.utilities.idempotency.persistence.dynamodb" in loaded


def test_the_openapi_document_needs_no_table() -> None:
    """The unsigned OpenAPI route answers from the route models alone."""
    document = "from handlers.docs_routes import openapi_json\nassert '/api/create_task' in openapi_json()"
    loaded = _modules_after(f"import handlers.api\n{document}")
    assert "pynamodb.models" not in loaded


def test_lazy_import_runs_a_module_on_first_attribute_access() -> None:
    loaded = _modules_after(
        "from transcoder.lazy import lazy_import\n"
        "fetch = lazy_import('transcoder.fetch')\n"
        "assert 'urllib3' not in sys.modules, 'ran at once'\n"
        "fetch.check_url\n"
        "import transcoder\n"
        "assert transcoder.fetch is fetch"
    )
    assert "urllib3" in loaded


def test_lazy_import_returns_a_module_already_imported() -> None:
    assert lazy_import("json") is json


def test_lazy_import_refuses_a_missing_module() -> None:
    with pytest.raises(ModuleNotFoundError):
        lazy_import("transcoder.no_such_module")


def test_load_pending_runs_every_lazily_imported_module() -> None:
    loaded = _modules_after("import handlers.api\nfrom transcoder.lazy import load_pending\nload_pending()")
    assert {"pynamodb.models", "urllib3", "transcoder.storages", "transcoder.template_store"} <= loaded
