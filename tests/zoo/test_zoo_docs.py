"""The zoo table and model cards are generated from the registry and must not drift."""

import importlib.util
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _script():
    spec = importlib.util.spec_from_file_location(
        "make_zoo_docs", os.path.join(ROOT, "scripts", "make_zoo_docs.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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
