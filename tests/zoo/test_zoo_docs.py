"""The zoo table and model cards are generated from the registry and must not drift."""

import os

from tests.helpers import load_script

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _script():
    return load_script("make_zoo_docs")


def test_zoo_docs_are_up_to_date():
    files = _script().generate()
    stale = [p for p, text in files.items()
             if not os.path.exists(p) or open(p).read() != text]
    assert not stale, f"run `python scripts/make_zoo_docs.py`; stale: {stale}"


def test_every_entry_has_a_card_with_its_parameter_count():
    from keras_s2s import zoo

    for name in zoo.list_models():
        card = open(os.path.join(ROOT, "zoo", f"{name}.md")).read()
        assert f"# `{name}`" in card and "Parameters at the default size" in card
        assert zoo.get_spec(name).paper in card
