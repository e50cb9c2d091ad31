"""The service guide as staff edit it: every required matter, errors that name file and field."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.catalogue.loader import REQUIRED_MATTER_IDS, CatalogueError, load_catalogue
from bot.catalogue.model import CaseType
from bot.config import ROOT

CATALOGUE = ROOT / "catalogue"


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue(CATALOGUE)


@pytest.fixture
def editable(tmp_path: Path) -> Path:
    """A copy of the catalogue a test may break."""
    shutil.copytree(CATALOGUE, tmp_path / "catalogue")
    return tmp_path / "catalogue"


def run_bot(*args: str, env_dir: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin"}
    if env_dir is not None:
        env["CATALOGUE_DIR"] = str(env_dir)
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=60)


def test_every_required_matter_is_there(catalogue):
    assert set(catalogue.matters) >= REQUIRED_MATTER_IDS
    assert len(REQUIRED_MATTER_IDS) == 30


def test_dibao_guide_comes_from_the_seeds(catalogue):
    dibao = catalogue.get("dibao")
    assert dibao.case_type is CaseType.REPORTED
    assert dibao.time_limit.working_days == 34
    assert dibao.fee.text == "不收费" and dibao.fee.source == "seeds/000:331"
    names = [m.name for m in dibao.materials_for("rural")]
    assert "书面申请书" in names and "一寸免冠照片" in names
    assert "低保" in dibao.aliases


def test_situation_variants_add_to_the_common_list(catalogue):
    move_in = catalogue.get("hukou_move_in")
    common = move_in.materials_for()
    spouse = move_in.materials_for("spouse")
    assert spouse[: len(common)] == common
    assert any(m.name == "结婚证" for m in spouse[len(common):])
    assert move_in.variant_question


def test_immediate_matters_say_so_plainly(catalogue):
    assert catalogue.get("hukou_certificate").time_limit.describe().startswith("即办")
    assert "34个工作日" in catalogue.get("dibao").time_limit.describe()


def test_material_lines_read_like_a_clerk_would_say_them(catalogue):
    lines = [m.describe() for m in catalogue.get("dibao").materials_for("rural")]
    assert "户主和家庭成员户口簿 原件和复印件各1份" in lines
    assert "一寸免冠照片 2张" in lines


def test_catalog_list_prints_id_group_handling_name():
    done = run_bot("catalog", "list")
    assert done.returncode == 0
    rows = {line.split("\t")[0]: line.split("\t")[1:] for line in done.stdout.splitlines()}
    assert rows["dibao"] == ["民政", "转报", "最低生活保障(低保)"]
    assert rows["household_split"] == ["公安", "受理", "立户和分户"]
    assert rows.keys() >= REQUIRED_MATTER_IDS and len(rows) >= 80


def test_catalog_check_passes_on_the_shipped_catalogue():
    done = run_bot("catalog", "check")
    assert done.returncode == 0, done.stderr
    assert "检查通过" in done.stdout


def test_a_typo_names_the_file_and_the_field(editable):
    path = editable / "matters" / "dibao.yml"
    path.write_text(path.read_text().replace("form: 原件和复印件", "form: 原见", 1))
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(editable)
    [problem] = caught.value.problems
    assert problem.file.endswith("dibao.yml")
    assert problem.field == "materials[2].form"
    assert "原见" in problem.message


def test_a_misspelt_key_and_a_missing_field_are_both_reported(editable):
    path = editable / "matters" / "wubao.yml"
    text = path.read_text().replace("materials:", "matrials:", 1)
    text = re.sub(r"^fee: .*\n", "", text, flags=re.M)
    path.write_text(text)
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(editable)
    fields = {p.field for p in caught.value.problems}
    assert {"matrials", "materials", "fee"} <= fields


def test_broken_yaml_gives_the_line(editable):
    path = editable / "matters" / "id_card.yml"
    path.write_text(path.read_text() + "aliases: [unclosed\n")
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(editable)
    [problem] = caught.value.problems
    assert problem.file.endswith("id_card.yml")
    assert problem.field.startswith("第") and "YAML" in problem.message


def test_a_time_limit_must_say_something(editable):
    path = editable / "matters" / "dibao.yml"
    path.write_text(path.read_text().replace("time_limit: {working_days: 34,",
                                             "time_limit: {working_days: 0,"))
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(editable)
    fields = {p.field for p in caught.value.problems}
    assert "time_limit.working_days" in fields


def test_a_missing_required_matter_is_reported(editable):
    (editable / "matters" / "seed_subsidy.yml").unlink()
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(editable)
    assert [p.field for p in caught.value.problems] == ["seed_subsidy"]


def test_id_must_match_file_name(editable):
    path = editable / "matters" / "dibao.yml"
    path.write_text(path.read_text().replace("id: dibao", "id: di_bao"))
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(editable)
    assert any(p.field == "id" and "文件名" in p.message for p in caught.value.problems)


def test_catalog_check_exits_non_zero_with_readable_errors(editable):
    path = editable / "matters" / "dibao.yml"
    path.write_text(path.read_text().replace("case_type: 上报件", "case_type: 上报"))
    done = run_bot("catalog", "check", env_dir=editable)
    assert done.returncode == 1
    assert "dibao.yml: case_type" in done.stderr
    assert "Traceback" not in done.stderr
