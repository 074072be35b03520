import pytest

from keras_s2s import zoo
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
        assert s.kind in ("seq2seq", "lm", "mlm", "positionwise"), name


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
