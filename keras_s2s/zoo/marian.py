"""MarianMT (Junczys-Dowmunt et al., 2018) as a zoo entry: the Transformer family at its size.

MarianNMT's Transformer, which the OPUS-MT models (Tiedemann & Thottingal, 2020) and Hugging
Face's `MarianMTModel` use, is the Transformer-base of Vaswani et al.: 6+6 post-LN blocks,
d_model 512, 8 heads, d_ff 2048, sinusoidal positions, embeddings scaled by sqrt(d_model),
and one vocabulary whose embedding serves source, target and output. The zoo's Transformer
family expresses it exactly, as `marian_base`, except for:

- the sinusoid's layout: keras-hub's `SinePositionEncoding` interleaves sine (even features)
  and cosine (odd features), Marian puts the sines in the first half and the cosines in the
  second. The two are a fixed permutation of the features, with the same information;
  Marian's trained weights would need the permutation to load;
- the feed-forward activation: OPUS-MT uses swish, the default here (`activation="swish"`);
- Hugging Face's `final_logits_bias`, a fixed zero bias in OPUS-MT checkpoints, which the
  zoo leaves out.

keras-hub has no Marian backbone, so `marian_base` loads no preset. With one tokenizer for
both sides, pass `share_embeddings=True` for Marian's shared vocabulary; the default keeps
source and target embeddings apart so that it trains on tasks with two vocabularies (the
target embedding stays tied to the output, as in Marian).
"""

from keras_s2s.zoo.registry import register_variant
from keras_s2s.zoo.transformer import _TINY, _TRAINING, transformer_encoder_decoder

_MARIAN = ("Junczys-Dowmunt et al., 2018. Marian: Fast Neural Machine Translation in C++. "
           "ACL 2018 System Demonstrations")

marian_base = register_variant(
    transformer_encoder_decoder, "marian_base", file="marian", paper=_MARIAN,
    fixed={"normalize_first": False, "scale_embeddings": True, "embedding_norm": False},
    defaults={"hidden_dim": 512, "num_heads": 8, "intermediate_dim": 2048,
              "num_encoder_layers": 6, "num_decoder_layers": 6, "position": "sinusoidal",
              "activation": "swish", "max_length": 512},
    tiny={**_TINY, "num_decoder_layers": 1}, training={**_TRAINING, "learning_rate": 5e-4},
    doc="""
    MarianMT: the Transformer-base that OPUS-MT uses (6+6 blocks, d_model 512, swish).

    Post-LN blocks, sinusoidal positions, embeddings scaled by sqrt(d_model), the target
    embedding tied to the output; `share_embeddings=True` with one tokenizer gives Marian's
    single shared vocabulary. The module docstring (`keras_s2s.zoo.marian`) lists exactly how
    it corresponds to MarianNMT and Hugging Face's `MarianMTModel`.

    Example:

    >>> model = marian_base(30, 30, hidden_dim=32, num_heads=2, intermediate_dim=64,
    ...                     num_encoder_layers=1, num_decoder_layers=1)

    Reference:
        - Junczys-Dowmunt et al., 2018. Marian. ACL 2018 (demos).
        - Tiedemann & Thottingal, 2020. OPUS-MT. EAMT 2020.
        - Vaswani et al., 2017. arXiv:1706.03762.
    """)
