"""A fast schemathesis run (about 100 cases) against a live server; `make fuzz` runs the full one (over 1,000)."""

from tests.fuzz_api import fuzz


def test_generated_requests_find_no_server_error_or_schema_violation(tmp_path):
    result = fuzz(examples=15, phases="fuzzing", seed=7, workdir=tmp_path)
    assert result["cases"] >= 80, result["output"][-3000:]
    assert result["exit_code"] == 0, result["output"][-6000:]
    assert result["server_errors"] == 0 and result["requests"] > 0
