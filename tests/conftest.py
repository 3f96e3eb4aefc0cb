from pathlib import Path

import pytest

from kb.pipeline import build

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures"
MINI = FIXTURES / "mini"
SAMPLE = ROOT / "data"


@pytest.fixture(scope="session")
def mini_build(tmp_path_factory):
    """The small hand-written fixture, built once: (kb path, public path)."""
    out = tmp_path_factory.mktemp("mini") / "cotour.db"
    result = build(MINI, out)
    return result.db_path, result.public_path


@pytest.fixture(scope="session")
def sample_build(tmp_path_factory):
    """The shipped sample data, built once: (kb path, public path)."""
    out = tmp_path_factory.mktemp("sample") / "cotour.db"
    result = build(SAMPLE, out)
    return result.db_path, result.public_path
