"""Join word and punctuation tokens back into text, as a reader writes it.

`WordTokenizer` and `SubwordTokenizer` split text into words and single punctuation marks
(`\\w+|[^\\w\\s]`); joining those with spaces gives "Hello , world !", which sacrebleu warns
about and translators can't use. `detokenize` puts the spaces back where writing has them:

- no space before closing punctuation (`, . ; : ! ? ) ] } %` and their full-width forms) and
  after opening punctuation and prefix signs (`( [ { ¿ ¡ $ £ #`), with straight double quotes
  paired (opening, then closing);
- an apostrophe joins a clitic or an elision (`don't`, `it's`, `l'homme`), otherwise it is a
  quote, paired like double quotes;
- `.`, `,` and `:` between digits join them (`3.50`, `10,000`, `12:30`), and so does a hyphen
  or a slash between word characters (`well-known`, `and/or`);
- no space between two Chinese or Japanese characters, which are written without spaces
  (Korean keeps its spaces, and so does a Latin word next to them).

Text written with ordinary spacing comes back unchanged (`tests/data/test_detokenize.py`
checks English, Spanish, French, German, Russian, Greek, Chinese and Japanese sentences).

Example:

>>> detokenize(["Don", "'", "t", "stop", ",", "he", "said", ":", '"', "go", "!", '"'])
'Don\\'t stop, he said: "go!"'
"""

import re

_CLOSING = set(",.;:!?)]}%…、。，．：；！？）」』】〉》")
_OPENING = set("([{¿¡「『【〈《$£#")
_CLITICS = {"s", "t", "re", "ve", "ll", "d", "m", "S", "T", "RE", "VE", "LL", "D", "M"}
_ELISIONS = {"l", "d", "j", "n", "s", "c", "m", "t", "qu", "L", "D", "J", "N", "S", "C", "M",
             "T", "Qu", "QU"}
_DIGIT_JOINERS = set(".,:")
_WORD_JOINERS = set("-/")
_NO_SPACE_SCRIPT = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
                              r"\u3000-\u303f\uff00-\uffef]")


def _is_word(token):
    return bool(token) and (token[0].isalnum() or token[0] == "_" or token.startswith("<"))


def _cjk(character):
    return bool(_NO_SPACE_SCRIPT.match(character))


def detokenize(tokens):
    """Join tokens into text with a writer's spacing (see the module docstring).

    Args:
        tokens: A list of strings: words and single punctuation marks.

    Returns:
        A string.

    Example:

    >>> detokenize(["¿", "Qué", "tal", "?", "Cuesta", "3", ".", "50", "€", "."])
    '¿Qué tal? Cuesta 3.50 €.'
    """
    out = []
    glue_next = False  # the next token attaches to the text so far
    quotes = {'"': False, "'": False}  # whether a quote of that kind is open
    n = len(tokens)
    for i, token in enumerate(tokens):
        previous = tokens[i - 1] if i else None
        following = tokens[i + 1] if i + 1 < n else None
        attach = glue_next or not out
        glue_next = False
        if previous is not None and _cjk(token[0]) and _cjk(previous[-1]):
            attach = True  # Chinese and Japanese are written without spaces
        if token in _CLOSING:
            attach = True
            if token in _DIGIT_JOINERS and previous and following and previous[-1].isdigit() \
                    and following[0].isdigit():
                glue_next = True
        elif token in _OPENING:
            glue_next = True
        elif token in _WORD_JOINERS and previous and following and _is_word(previous) \
                and _is_word(following):
            attach = glue_next = True
        elif token == "'" and previous and following and _is_word(previous) and (
                following in _CLITICS or previous in _ELISIONS) and _is_word(following):
            attach = glue_next = True  # an apostrophe: don't, l'homme
        elif token in quotes:
            if quotes[token]:  # a closing quote
                attach = True
            else:
                glue_next = True
            quotes[token] = not quotes[token]
        out.append(token if attach else " " + token)
    return "".join(out)
