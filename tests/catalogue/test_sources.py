"""Issue #12: every fact traceable, no word silently picking one of several matters, and the
center told what is still to fill in — by `bot catalog check`, `--sources` and `list --todo`."""

import re

import yaml

from bot.catalogue.lint import facts
from bot.catalogue.loader import load_catalogue
from bot.config import ROOT
from tests.catalogue.test_loader import editable, run_bot  # noqa: F401  (a fixture)

SEEDS = ROOT.parent / "shared" / "seeds"


def _edit(path, change):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False),
                    encoding="utf-8")


def test_every_fact_of_the_shipped_catalogue_has_a_source_or_a_flag():
    done = run_bot("catalog", "check", "--sources")
    assert done.returncode == 0, done.stderr[-3000:]
    rows = [line.split("\t") for line in done.stdout.splitlines() if "\t" in line]
    assert len(rows) > 500
    assert all(row[2].startswith(("seeds/", "policy:", "待核实")) for row in rows), [
        row for row in rows if not row[2].startswith(("seeds/", "policy:", "待核实"))][:5]


def test_a_fact_with_neither_source_nor_flag_fails_the_check(editable):  # noqa: F811
    _edit(editable / "matters" / "dibao.yml",
          lambda m: m["conditions"].append("家里没有小汽车"))
    done = run_bot("catalog", "check", env_dir=editable)
    assert done.returncode == 1
    assert re.search(r"dibao\.conditions\[\d+\]: 「家里没有小汽车」没有出处", done.stderr)


def test_a_source_past_the_end_of_its_seed_is_refused(editable):  # noqa: F811
    if not SEEDS.is_dir():
        return  # the seeds live beside the repository; without them only the format counts
    _edit(editable / "matters" / "dibao.yml",
          lambda m: m["materials"][0].update(source="seeds/000:99999"))
    done = run_bot("catalog", "check", env_dir=editable)
    assert done.returncode == 1 and "seeds/000 只有" in done.stderr


def test_a_malformed_source_names_the_field(editable):  # noqa: F811
    _edit(editable / "matters" / "dibao.yml",
          lambda m: m["materials"][0].update(source="民政局说的"))
    done = run_bot("catalog", "check", env_dir=editable)
    assert done.returncode == 1 and "materials[1].source" in done.stderr


def test_a_word_shared_by_two_matters_must_be_declared(editable):  # noqa: F811
    _edit(editable / "matters" / "wubao.yml", lambda m: m["aliases"].append("吃低保"))
    done = run_bot("catalog", "check", env_dir=editable)
    assert done.returncode == 1
    assert "aliases「吃低保」: 写在了几个事项里(dibao, wubao)" in done.stderr


def test_a_declared_shared_word_makes_each_matter_a_candidate(editable):  # noqa: F811
    (editable / "ambiguous.yml").write_text("救助金: [dibao, medical_assistance]\n",
                                            encoding="utf-8")
    catalogue = load_catalogue(editable)
    assert catalogue.ambiguous["救助金"] == ("dibao", "medical_assistance")
    assert "救助金" in catalogue.get("dibao").aliases
    assert "救助金" in catalogue.get("medical_assistance").aliases
    assert run_bot("catalog", "check", env_dir=editable).returncode == 0


def test_too_few_aliases_fail_the_check(editable):  # noqa: F811
    _edit(editable / "matters" / "dibao.yml", lambda m: m.update(aliases=["低保", "吃低保"]))
    done = run_bot("catalog", "check", env_dir=editable)
    assert done.returncode == 1 and "dibao.aliases: 至少写 5 个" in done.stderr


def test_the_center_is_warned_about_placeholders_but_not_refused():
    done = run_bot("catalog", "check")
    assert done.returncode == 0
    assert "电话和地址还是示例" in done.stderr


def test_list_todo_names_what_each_unfinished_matter_lacks():
    done = run_bot("catalog", "list", "--todo")
    assert done.returncode == 0
    rows = {line.split("\t")[0]: line.split("\t")[-1] for line in done.stdout.splitlines()}
    catalogue = load_catalogue(ROOT / "catalogue")
    for matter in catalogue:
        flagged = sum(1 for fact in facts(matter) if fact.to_confirm)
        if not matter.materials and not any(v.materials for v in matter.variants):
            assert "材料清单" in rows[matter.id]
        elif flagged:
            assert f"{flagged} 条待核实" in rows[matter.id]
    full = [m.id for m in catalogue if not m.to_confirm and m.fee and m.place
            and not any(f.to_confirm for f in facts(m))]
    assert full and not set(full) & set(rows)
