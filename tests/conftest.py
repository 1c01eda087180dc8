import os

import pytest

import tiny

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(scope="session")
def project(tmp_path_factory):
    """The tiny project (tiny.py) after one `dvc repro`, shared by the end-to-end tests."""
    return tiny.make_project(tmp_path_factory.mktemp("project"))
