"""Nothing already written is lost: a new run's database or a new screenshot never takes the
name of a file that is there, even within the same second or at the same simulated time."""

from __future__ import annotations

from pathlib import Path

import pytest

from playground.store.recorder import default_path
from playground.ui.screenshots import screenshot_path


def test_runs_started_in_the_same_second_get_files_of_their_own(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    made = []
    for _ in range(3):
        path = default_path("orders eda", 7, runs)
        # made as it is named: another process choosing a name now sees it taken
        assert path.exists() and path.stat().st_size == 0
        made.append(path)
    assert len(set(made)) == 3 and all(p.parent == runs for p in made)
    assert made[0].name.startswith("orders-eda-7-") and made[0].suffix == ".sqlite"
    stems = [p.name.removesuffix(".sqlite") for p in made]
    if stems[1].startswith(stems[0]):  # same second: numbered after the first
        assert stems[1] == stems[0] + "-2"


def test_screenshots_at_the_same_instant_are_numbered(tmp_path: Path) -> None:
    first = screenshot_path("shop / eda", 12.5, tmp_path / "shots")
    first.write_text("<svg/>")
    second = screenshot_path("shop / eda", 12.5, tmp_path / "shots")
    assert first.name == "shop-eda-t00012.5s.svg"
    assert second.name == "shop-eda-t00012.5s-2.svg" and not second.exists()


@pytest.mark.parametrize(("name", "stem"), [
    ("注文システム 🚀 café", "注文システム-café"),
    ("Ünïcödé", "Ünïcödé"),
    ("🚀", "-"),
])
def test_a_screenshot_keeps_the_letters_of_every_script_as_the_database_does(
        tmp_path: Path, name: str, stem: str) -> None:
    shot = screenshot_path(name, 3, tmp_path)
    assert shot.name == f"{stem}-t00003.0s.svg"
    db = default_path(name, 7, tmp_path)
    assert shot.name.split("-t0")[0].replace("-", "") == \
        db.name.split("-7-")[0].replace("-", "")  # the same characters kept


def test_a_long_name_in_any_script_still_makes_a_file_name(tmp_path: Path) -> None:
    shot = screenshot_path("注文" * 200 + " vs " + "é" * 200, 3, tmp_path)
    assert shot.name.startswith("注文注文") and len(shot.name.encode()) < 200
    shot.write_text("<svg/>")  # the file system takes it
