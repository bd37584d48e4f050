"""Settings: one table declares every environment variable; the README shows that table,
and a value that does not parse names its variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer.errors import SettingError
from indexer.settings import SETTINGS, load_settings, read_setting, settings_table

README = Path(__file__).resolve().parent.parent / "README.md"


def test_the_readme_shows_the_settings_table_as_declared():
    assert settings_table() in README.read_text(encoding="utf-8")


def test_every_variable_is_declared_once():
    names = [s.env for s in SETTINGS]
    assert len(names) == len(set(names))


def test_unset_or_blank_variables_give_the_defaults():
    settings = load_settings({"TRIALSEARCH_REQUEST_BUDGET": "  "})
    assert settings.request_budget == 10.0
    assert settings.warm is True
    assert settings.pages_dir is None
    assert settings.workers >= 2


def test_values_are_parsed_to_their_types():
    env = {
        "TRIALSEARCH_PAGES_DIR": "/srv/mirror",
        "TRIALSEARCH_REQUEST_BUDGET": "2.5",
        "TRIALSEARCH_WARM": "off",
        "WEB_CONCURRENCY": "3",
    }
    settings = load_settings(env)
    assert settings.pages_dir == Path("/srv/mirror")
    assert settings.request_budget == 2.5
    assert settings.warm is False
    assert settings.workers == 3


@pytest.mark.parametrize(
    ("env", "value"),
    [
        ("TRIALSEARCH_REQUEST_BUDGET", "soon"),
        ("TRIALSEARCH_REQUEST_BUDGET", "-1"),
        ("TRIALSEARCH_REQUEST_BUDGET", "nan"),
        ("TRIALSEARCH_WARM", "maybe"),
        ("WEB_CONCURRENCY", "0"),
        ("TRIALSEARCH_MAX_PAGE_BYTES", "4MB"),
    ],
)
def test_a_bad_value_is_an_error_naming_the_variable(env, value):
    name = next(s.name for s in SETTINGS if s.env == env)
    with pytest.raises(SettingError, match=env):
        read_setting(name, {env: value})


def test_overrides_win_and_unknown_names_are_refused():
    assert load_settings({}, warm=False).warm is False
    with pytest.raises(TypeError):
        load_settings({}, colour="blue")
