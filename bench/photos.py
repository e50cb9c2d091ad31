"""The photo check (bot/cases/photo_check.py) on generated phone photos of papers
(bench/photo_set.py): per defect precision and recall, false alarms on good photos, and the
time per photo at 1280×960 (what WeChat sends by default) and 4000×3000 (原图 of a 12 MP
phone), on this machine.

The thresholds were tuned on the set of TUNING_SEED; the figures that count are those of the
set of HELD_OUT_SEED, which no threshold has seen. Both are printed, the tuning set first.
"""

from __future__ import annotations

import argparse
import random
import time
from collections import Counter

from bench.common import percentile
from bench.photo_set import DEFECTS, GOOD, Photo, make_photo, photo_set
from bot.cases.photo_check import Defect, PhotoCheck, check_photo

TUNING_SEED = 1
HELD_OUT_SEED = 2
GOOD_PHOTOS = 60
PER_DEFECT = 30
LARGE_PER_KIND = 3  # 4000×3000 photos of each kind, for the time (and a look at accuracy)
TARGET_RECALL, TARGET_FALSE_ALARMS, TARGET_MS = 0.9, 0.1, 200

SEVERITIES = """severities (relative to a 1280-pixel photo, scaled with the size):
  good: 72-95% of the frame, tilt ±4°, corners pulled ±2.5%, exposure 0.82-0.96, flare 0-12,
        a soft shadow on 30%, focus softened σ ≤ 0.8 px, noise σ 1.5-4, JPEG q70-92
  blurred: out of focus σ 2.5-6 px, or a shake of 10-24 px at any angle
  dark: exposure 0.10-0.30, noise σ 3-7     overexposed: exposure 1.6-2.6, flare 20-80
  too_small: 320-800 px on the longer side  cut_off: 25-50% of the page out on 1 or 2 sides
  rotated: 90°, 180° or 270° (recall counts only a photo turned back the right way)"""


def _found(check: PhotoCheck, photo: Photo) -> set[str]:
    """The defects found; a turn the wrong way counts as rotated found on no rotated photo."""
    found = {d.value for d in check.defects}
    if Defect.ROTATED in check.defects and photo.kind == "rotated" and \
            check.turned != photo.turn:
        found = (found - {"rotated"}) | {"rotated (wrong way)"}
    return found


def _timed(photo: Photo) -> tuple[set[str], float]:
    start = time.perf_counter()
    check = check_photo(photo.content)
    return _found(check, photo), (time.perf_counter() - start) * 1000


def _report(label: str, photos: list[Photo], show_misses: bool) -> list[float]:
    results = [_timed(photo) for photo in photos]
    flagged: Counter[str] = Counter()
    right: Counter[str] = Counter()
    for photo, (found, _) in zip(photos, results, strict=True):
        flagged.update(found & set(DEFECTS))
        if photo.kind in found:
            right[photo.kind] += 1
    kinds = Counter(photo.kind for photo in photos)
    print(f"{label}: {kinds[GOOD]} good photos, {PER_DEFECT} of each defect")
    for defect in DEFECTS:
        precision = right[defect] / flagged[defect] if flagged[defect] else 1.0
        recall = right[defect] / kinds[defect]
        mark = "" if recall >= TARGET_RECALL else "  (below target)"
        print(f"  {defect:12} recall {recall:6.1%}  precision {precision:6.1%}{mark}")
    alarms = sum(1 for photo, (found, _) in zip(photos, results, strict=True)
                 if photo.kind == GOOD and found)
    print(f"  false alarms on good photos: {alarms}/{kinds[GOOD]} = {alarms / kinds[GOOD]:.1%} "
          f"(target ≤ {TARGET_FALSE_ALARMS:.0%})")
    if show_misses:
        for photo, (found, _) in zip(photos, results, strict=True):
            if found != ({photo.kind} - {GOOD}):
                print(f"    {photo.kind} {photo.note}: found {sorted(found) or 'nothing'}")
    return [ms for _, ms in results]


def _times(label: str, times: list[float]) -> None:
    print(f"  {label}: p50 {percentile(times, 0.5):.0f} ms, p99 {percentile(times, 0.99):.0f} ms "
          f"(target ≤ {TARGET_MS} ms)")


def _large(seed: int) -> list[Photo]:
    rng = random.Random(seed * 1000)
    return [make_photo(rng, kind, (4000, 3000))
            for kind in (GOOD, *DEFECTS) for _ in range(LARGE_PER_KIND)]


def run(seed: int, label: str, show_misses: bool) -> None:
    small = photo_set(seed, PER_DEFECT, GOOD_PHOTOS)
    times = _report(f"{label}, seed {seed}, 1280×960", small, show_misses)
    _times("time per photo at 1280×960", times)
    _times("of which turned photos, straightened at full size",
           [ms for photo, ms in zip(small, times, strict=True) if photo.kind == "rotated"])
    large = _large(seed)
    results = [_timed(photo) for photo in large]
    missed = [f"{photo.kind} {photo.note}" for photo, (found, _) in zip(large, results,
                                                                        strict=True)
              if found != ({photo.kind} - {GOOD})]
    print(f"  4000×3000: {len(large) - len(missed)}/{len(large)} photos judged right"
          + (f" (missed: {'; '.join(missed)})" if missed else ""))
    _times("time per photo at 4000×3000", [ms for _, ms in results])
    _times("of which turned photos, straightened at full size",
           [ms for photo, (_, ms) in zip(large, results, strict=True) if photo.kind == "rotated"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, help="one set only (e.g. while tuning)")
    parser.add_argument("--misses", action="store_true", help="list every photo judged wrong")
    args = parser.parse_args()
    print("photo check on generated phone photos of papers")
    print(SEVERITIES)
    if args.seed is not None:
        run(args.seed, "set", args.misses)
        return
    run(TUNING_SEED, "tuning set (thresholds chosen on it)", args.misses)
    run(HELD_OUT_SEED, "held-out set (the figures that count)", args.misses)


if __name__ == "__main__":
    main()
