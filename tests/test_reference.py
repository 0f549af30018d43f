"""docs/configuration.md is generated from the settings models (`make docs`): it may not drift from them,
and every setting it lists says what it does."""

from __future__ import annotations

from tools import config_reference


def test_reference_matches_the_models() -> None:
    current = config_reference.REFERENCE.read_text()
    assert current == config_reference.render(), "docs/configuration.md is stale: run make docs"


def test_every_setting_is_described() -> None:
    undescribed = [path for path, _, _, text in config_reference.rows(config_reference.EnvironmentConfig) if not text]
    assert undescribed == []


def test_check_mode_reports_a_stale_file(tmp_path, monkeypatch, capsys) -> None:
    stale = tmp_path / "configuration.md"
    stale.write_text(config_reference.render().replace("| `region` |", "| `area` |"))
    monkeypatch.setattr(config_reference, "REFERENCE", stale)
    monkeypatch.setattr(config_reference, "ROOT", tmp_path)
    assert config_reference.main(["--check"]) == 1
    assert "stale: run make docs" in capsys.readouterr().err
