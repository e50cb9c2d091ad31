"""The `bot nlu` evaluation commands: evaluate, crossval, calibrate (bot/cli.py adds them).

Offline tools for whoever tunes the NLU: figures only for the frozen test set, the misses of
the sets looked at while tuning, cross-validation, and the weighing replayed on its outputs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from bot.config import Settings


def _dump(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False)


def evaluate_command(settings: Settings, args: argparse.Namespace) -> int:
    from bot.nlu.evaluate import QUESTION_SETS, evaluate, format_report, load_heldout

    if args.errors and not args.file and args.set == "test":
        print("测试集不列出错题:看过的测试集就成了训练集。调参请用 --set dev", file=sys.stderr)
        return 2
    files = [args.file] if args.file else QUESTION_SETS[args.set]
    cases = [case for path in files for case in load_heldout(path)]
    report = asyncio.run(evaluate(settings, cases))
    print(format_report(report, show_errors=args.errors))
    if args.json:
        Path(args.json).write_text(_dump(report.to_json()), encoding="utf-8")
    return 0


def crossval_command(settings: Settings, args: argparse.Namespace) -> int:
    from bot.nlu.calibrate import save_outputs
    from bot.nlu.crossval import cross_validate
    from bot.nlu.evaluate import format_report

    report, outputs = asyncio.run(cross_validate(settings, args.folds))
    print(format_report(report))
    if args.json:
        Path(args.json).write_text(_dump(report.to_json()), encoding="utf-8")
    if args.save:
        save_outputs(args.save, outputs)
    return 0


def calibrate_command(settings: Settings, args: argparse.Namespace) -> int:
    from bot.catalogue.loader import load_catalogue
    from bot.nlu.calibrate import calibrate, format_table, load_outputs
    from bot.nlu.matters import MatterResolver
    from bot.nlu.understand import Weighing

    rows = calibrate(load_outputs(args.outputs),
                     MatterResolver(load_catalogue(settings.catalogue_dir)))
    print(format_table(rows, Weighing(), args.top))
    return 0


def add_evaluation_commands(nlu: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add evaluate, crossval and calibrate to the `bot nlu` subcommands."""
    evaluate = nlu.add_parser("evaluate", help="在留出的问题上评估意图和事项识别")
    evaluate.add_argument("--set", choices=("test", "dev"), default="test",
                          help="test: 冻结的测试集(默认,只给数字); dev: 调参集")
    evaluate.add_argument("--file", type=Path, help="改用这个文件(意图<TAB>事项或-<TAB>问题)")
    evaluate.add_argument("--json", help="把结果另存为 JSON 文件")
    evaluate.add_argument("--errors", action="store_true", help="列出识别错的问题(不用于测试集)")
    evaluate.set_defaults(handler=evaluate_command)
    crossval = nlu.add_parser("crossval", help="训练数据的 k 折交叉验证(要训练 k 次)")
    crossval.add_argument("--folds", type=int, default=5)
    crossval.add_argument("--json", help="把结果另存为 JSON 文件")
    crossval.add_argument("--save", type=Path,
                          help="把每个例子的识别结果存下来,给 bot nlu calibrate 用")
    crossval.set_defaults(handler=crossval_command)
    calibrate = nlu.add_parser("calibrate",
                               help="在交叉验证结果上比较事项判断的阈值(不用测试集)")
    calibrate.add_argument("outputs", type=Path, help="bot nlu crossval --save 存的文件")
    calibrate.add_argument("--top", type=int, default=15, help="列出最好的几组")
    calibrate.set_defaults(handler=calibrate_command)
