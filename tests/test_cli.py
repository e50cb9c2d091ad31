"""The `bot parse` command: one question a line in, one JSON object a line out."""

import json
import os
import subprocess
import sys

from bot.config import ROOT


def run_parse(lines: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("NLU_")}
    environment.update(env)
    return subprocess.run([sys.executable, "-m", "bot.cli", "parse"], input=lines,
                          capture_output=True, text=True, env=environment, cwd=ROOT, timeout=180)


def test_parse_against_a_running_service(remote_settings):
    done = run_parse("低保要带啥\n\n高零补贴咋领\n", NLU_URL=remote_settings.nlu_url,
                     NLU_TOKEN=str(remote_settings.nlu_token))
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["matter"] for r in rows] == ["dibao", None, "senior_allowance"]
    assert rows[1]["skipped"] == "empty"
    assert all(set(r) >= {"text", "intent", "confidence", "matter", "matter_confidence",
                          "candidates"} for r in rows)


def test_parse_starts_its_own_service_when_none_is_set(nlu_service):
    done = run_parse("几点上班\n")
    assert done.returncode == 0, done.stderr
    [row] = [json.loads(line) for line in done.stdout.splitlines()]
    assert row["intent"] == "ask_office_hours"


def test_nlu_url_without_token_is_a_clear_error():
    done = run_parse("低保\n", NLU_URL="http://127.0.0.1:9")
    assert done.returncode == 2  # a configuration error, reported before anything starts
    assert "NLU_TOKEN" in done.stderr and "Traceback" not in done.stderr


def test_parse_starts_its_own_service_when_the_configured_one_is_down(nlu_service):
    from bot.nlu.runtime import free_port

    done = run_parse("低保要带啥\n", NLU_URL=f"http://127.0.0.1:{free_port()}", NLU_TOKEN="x")
    assert done.returncode == 0, done.stderr
    assert "连不上" in done.stderr
    assert json.loads(done.stdout)["matter"] == "dibao"
