import pytest

from keras_s2s import kinds, zoo
from keras_s2s.zoo.registry import register_model

REQUIRED = {
    "vanilla_rnn", "vanilla_gru", "vanilla_lstm", "bigru", "bilstm", "stacked_lstm",
    "residual_lstm", "peephole_lstm", "coupled_lstm", "sutskever", "bahdanau_gru",
    "bahdanau_lstm", "bahdanau_bilstm", "luong_lstm", "luong_bilstm", "luong_dot_bilstm",
    "luong_concat_bilstm",
}


def test_every_required_entry_is_registered():
    assert REQUIRED <= set(zoo.list_models())


def test_list_models_pattern_and_order():
    luong = zoo.list_models("luong_*")
    assert luong == sorted(luong) and luong and all(n.startswith("luong_") for n in luong)
    assert zoo.list_models("nothing*") == []


def test_spec_holds_what_the_cards_need():
    spec = zoo.get_spec("luong_bilstm")
    assert spec.family == "attention_seq2seq" and "Luong" in spec.paper
    assert spec.defaults["score"] == "general" and spec.defaults["input_feeding"] is True
    assert spec.tiny and spec.training["optimizer"]
    assert spec.summary
    for name in zoo.list_models():
        s = zoo.get_spec(name)
        assert s.summary and s.paper and s.tiny, name
        assert {"dropout", "name"} <= set(s.defaults), name
        assert set(s.tiny) <= set(s.defaults), (name, "tiny sets an unknown argument")
        assert s.kind in kinds.names(), name


def test_unknown_name_suggests_close_matches():
    with pytest.raises(ValueError, match="luong_bilstm"):
        zoo.build("luong_bilstmm", source_vocab_size=10, target_vocab_size=10)
    with pytest.raises(ValueError, match="Unknown model 'transformer_xyz'"):
        zoo.get_spec("transformer_xyz")


def test_unknown_kwarg_lists_the_accepted_ones():
    with pytest.raises(ValueError, match=r"unknown argument\(s\) \['hidden'\].*units"):
        zoo.build("vanilla_lstm", source_vocab_size=10, target_vocab_size=10, hidden=3)


def test_duplicate_registration_raises():
    def vanilla_lstm(source_vocab_size, target_vocab_size, *, name="x"):
        """Duplicate."""

    with pytest.raises(ValueError, match="already registered"):
        register_model(vanilla_lstm)


@pytest.mark.parametrize("kwargs, match", [
    ({"units": 0}, "units"),
    ({"dropout": 1.0}, "dropout"),
    ({"num_layers": -1}, "num_layers"),
    ({"source_vocab_size": 2}, "special tokens"),
    ({"bridge": "magic"}, "bridge"),
    ({"score": "cosine"}, "score"),
])
def test_bad_hyperparameters_raise_value_errors(kwargs, match):
    args = {"source_vocab_size": 10, "target_vocab_size": 10, **kwargs}
    with pytest.raises(ValueError, match=match):
        zoo.build("luong_lstm", **args)


# --- entries state only what differs from their family (register_variant) ---------------------

def _toy_family(source_vocab_size, target_vocab_size, *, units=16, cell_type="lstm", depth=1,
                name="toy_family"):
    """A toy family.

    Args:
        source_vocab_size: Source vocabulary.
        target_vocab_size: Target vocabulary.
        units: Width.
        cell_type: The cell,
            on two lines.
        depth: Layers.
        name: Name.

    Returns:
        The arguments it was called with.
    """
    return dict(source_vocab_size=source_vocab_size, target_vocab_size=target_vocab_size,
                units=units, cell_type=cell_type, depth=depth, name=name)


@pytest.fixture
def private_registry(monkeypatch):
    monkeypatch.setattr(zoo.registry, "_REGISTRY", dict(zoo.registry._REGISTRY))


_TOY_DOC = """
    A toy entry.

    Example:

    >>> toy_gru(10, 10)
    """


def test_a_variant_fixes_hides_and_redefaults_family_arguments(private_registry):
    from keras_s2s.zoo.registry import register_variant

    toy_gru = register_variant(_toy_family, "toy_gru", fixed={"cell_type": "gru"},
                               defaults={"units": 32}, hide=("depth",), doc=_TOY_DOC,
                               paper="Toy", tiny={"units": 4})
    spec = zoo.get_spec("toy_gru")
    assert spec.defaults == {"units": 32, "name": "toy_gru"}
    assert toy_gru(10, 12) == dict(source_vocab_size=10, target_vocab_size=12, units=32,
                                   cell_type="gru", depth=1, name="toy_gru")
    assert toy_gru(10, 12, units=8)["units"] == 8
    with pytest.raises(TypeError):
        toy_gru(10, 12, cell_type="lstm")      # fixed: not an argument of the entry
    with pytest.raises(TypeError):
        toy_gru(10, 12, depth=2)               # hidden
    # the docstring carries the family's descriptions of exactly the entry's arguments
    doc = toy_gru.__doc__
    assert "    units: Width." in doc and "Returns:\n    The arguments" in doc
    assert "depth" not in doc and "cell_type" not in doc
    assert doc.index("Args:") < doc.index("Returns:") < doc.index("Example:")
    assert spec.summary == "A toy entry." and spec.family == "test_registry"


def test_an_option_added_to_a_family_reaches_its_entries(private_registry):
    from keras_s2s.zoo.registry import register_variant

    a = register_variant(_toy_family, "toy_a", fixed={"cell_type": "gru"}, doc=_TOY_DOC)
    b = register_variant(_toy_family, "toy_b", defaults={"depth": 3}, doc=_TOY_DOC)
    assert a(5, 5, depth=2)["depth"] == 2 and b(5, 5)["depth"] == 3


@pytest.mark.parametrize("kwargs, match", [
    ({"fixed": {"colour": 1}}, r"\['colour'\].*does not take"),
    ({"defaults": {"colour": 1}}, r"\['colour'\].*does not take"),
    ({"doc": "No example."}, "Example"),
])
def test_a_bad_variant_is_refused(private_registry, kwargs, match):
    from keras_s2s.zoo.registry import register_variant

    with pytest.raises(ValueError, match=match):
        register_variant(_toy_family, "toy_bad", **{"doc": _TOY_DOC, **kwargs})


def test_a_family_must_describe_every_argument(private_registry):
    from keras_s2s.zoo.registry import register_variant

    def undocumented(source_vocab_size, target_vocab_size, *, units=4, name="u"):
        """No args section."""

    with pytest.raises(ValueError, match="documents no source_vocab_size"):
        register_variant(undocumented, "toy_undocumented", doc=_TOY_DOC)


# the entries of a family with several are variants of its builder, which owns the signature
FAMILY_BUILDERS = {
    "rnn_seq2seq": "rnn_encoder_decoder",
    "attention_seq2seq": "attention_encoder_decoder",
    "transformer": "transformer_encoder_decoder",
}


# entries whose architecture no other entry shares are their own builders
SINGLE_ARCHITECTURES = {"transformer_lm", "bert_mlm", "dense_autoencoder", "t5_small"}


@pytest.mark.parametrize("name", sorted(zoo.list_models()))
def test_entries_of_shared_families_are_variants(name):
    import inspect

    spec = zoo.get_spec(name)
    module = inspect.getmodule(spec.builder)
    if name in SINGLE_ARCHITECTURES:
        assert not hasattr(spec.builder, "variant_of")
        return
    family_name, fixed = spec.builder.variant_of
    family = getattr(module, family_name)
    family_defaults = {p.name: p.default for p in inspect.signature(family).parameters.values()
                       if p.kind == p.KEYWORD_ONLY}
    # every argument the entry takes is the family's, and the entry's own lines are only
    # what differs: the fixed choices and the changed defaults
    assert set(spec.defaults) <= set(family_defaults), name
    assert set(fixed).isdisjoint(spec.defaults), name
    assert FAMILY_BUILDERS.get(spec.family, family_name) == family_name
