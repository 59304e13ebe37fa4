"""Per-language rule data for the risk assessment (see `bot.safety.rules` for the format).

Each module defines one `Lexicon`: its slang table, pattern macros, named cues and rules.
The patterns match normalised text (`bot.safety.normalize`): lower case, no accents,
English contractions fused ("dont", "im"), French elisions split ("j ai"), and "." / ","
as separate tokens for sentence and clause ends.
"""

from bot.safety.lexicon import en, es, fr
from bot.safety.rules import Lexicon

LEXICONS: tuple[Lexicon, ...] = (en.LEXICON, fr.LEXICON, es.LEXICON)
