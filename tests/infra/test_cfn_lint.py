"""cfn-lint on the synthesized template (W3005, the DependsOn CDK adds on its own, is ignored)."""

import json
import subprocess
import sys
from pathlib import Path

from tests.infra.conftest import Synthesized

CFN_LINT = Path(sys.executable).parent / "cfn-lint"


def _lint(template: Path) -> subprocess.CompletedProcess[str]:
    command = [str(CFN_LINT)] if CFN_LINT.exists() else [sys.executable, "-m", "cfnlint"]
    return subprocess.run(
        [*command, "-i", "W3005", "--", str(template)], capture_output=True, text=True, timeout=300, check=False
    )


def test_template_passes_cfn_lint(synthesized: Synthesized) -> None:
    result = _lint(synthesized.outdir / "Transcoder.template.json")
    assert result.returncode == 0, f"cfn-lint exit {result.returncode}:\n{result.stdout}\n{result.stderr}"


def test_cfn_lint_does_report_errors(synthesized: Synthesized, tmp_path: Path) -> None:
    """The check above can fail: a broken copy of the template is rejected."""
    broken = json.loads(json.dumps(synthesized.template_dict))
    function = next(r for r in broken["Resources"].values() if r["Type"] == "AWS::Lambda::Function")
    function["Properties"]["Runtime"] = "python2.1"
    function["Properties"]["MemorySize"] = 99999
    path = tmp_path / "broken.template.json"
    path.write_text(json.dumps(broken))
    result = _lint(path)
    assert result.returncode != 0, result.stdout
    assert "E3" in result.stdout, result.stdout
