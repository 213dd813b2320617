"""The tokenizer parity corpus: varied lines made from a fixed seed, the same on every run.

Several scripts (Latin with accents, Cyrillic, Greek, Arabic, Hebrew, Devanagari, Thai, CJK,
Hangul), emoji (skin tones, ZWJ families, flags, keycaps), runs of spaces, tabs, carriage
returns and other Unicode white space, digits (long numbers, Arabic-Indic, fullwidth,
superscripts, fractions), English contractions in every case (and U+017F, long s), and lines
of source code. Lines are NFC (Qwen2's tokenizer.json normalizes to NFC, the C encoder takes
the text as given) and never hold U+2581 or a special token's text (both are documented
differences: docs/ENGINES.md).

    python3 engines/tokenizer/parity_corpus.py [--lines N] > corpus.nul   (NUL-separated)
"""

from __future__ import annotations

import argparse
import random
import sys
import unicodedata

WORDS = {
    "english": "the quick brown fox jumps over lazy dog tokenizer model board memory cache "
    "kernel byte merge pattern unicode stream prompt answer chat small large",
    "latin": "café naïve résumé façade Ærø São Paulo Łódź Straße über Größe señor año "
    "crème brûlée déjà vu Dvořák Kraków Ångström",
    "cyrillic": "Привет мир как дела Москва привет Ёжик язык программирования слово",
    "greek": "Καλημέρα κόσμε ελληνικά γλώσσα Αθήνα λόγος ΑΒΓΔ",
    "arabic": "مرحبا بالعالم اللغة العربية كتاب مدرسة",
    "hebrew": "שלום עולם עברית ספר",
    "devanagari": "नमस्ते दुनिया हिन्दी भाषा किताब",
    "thai": "สวัสดีครับ ภาษาไทย หนังสือ",
    "cjk": "你好世界 中文分词 日本語のテキスト 東京タワー 漢字 ひらがな カタカナ",
    "hangul": "안녕하세요 세계 한국어 문장",
}
EMOJI = [
    "😀", "🎉", "👍🏽", "👨‍👩‍👧‍👦", "🇫🇷", "🇯🇵", "1️⃣", "❤️", "🏳️‍🌈", "🤖", "🦀", "🐍",
    "✨", "🚀", "👩🏿‍💻",
]  # fmt: skip
SPACES = [" ", "  ", "   ", "\t", "\t\t", " \t ", "\r", "\n", "\r\n", "\n\n", " \n  ",
          "\u00a0", "\u3000", "\u2003", "\u2009", "\u202f", "\u200b",
          "\u00ad", "\u0085", "\u2028", "\x0b", "\x0c"]  # fmt: skip
CONTRACTIONS = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'T", "'RE", "'Ve", "'LL",
                "'D", "'\u017f", "'x", "''", "\u2019s"]  # fmt: skip
NUMBERS = ["0", "7", "42", "1234", "12345678901234567890", "3.14159", "1,000,000", "٣٤٥",
           "\uff11\uff12\uff13", "²³", "½", "Ⅻ", "०१२", "-17", "+1e-9", "0x1F"]  # fmt: skip
CODE = [
    "def main(argv: list[str]) -> int:",
    "    return 0  # done",
    "for (int i = 0; i < n; i++) { sum += a[i] * b[i]; }",
    'printf("%d\\n", x);',
    "if x != None and y >= 3: print(f'{x!r}')",
    "#include <stdint.h>",
    "let v: Vec<u8> = vec![0xff; 16];",
    "SELECT id, name FROM users WHERE age > 30;",
    "const f = (a, b) => a ?? b;",
    "    \t\tindent()",
    "x<<=2; y>>=1; z&=~mask;",
    '<html><body class="main">&nbsp;</body></html>',
    '{"key": [1, 2.5, null, true]}',
]
PUNCT = [".", ",", "!", "?", "...", "—", "\u2013", "«", "»", "“", "”", "(", ")", "[", "]", ":", ";",
         "@", "#", "$", "%", "&", "*", "~", "`", "^", "|", "\\", "/", "'", '"', "¿", "¡", "・",
         "。", "、", "،"]  # fmt: skip


def _word(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.55:
        script = rng.choice(list(WORDS))
        word = rng.choice(WORDS[script].split())
        case = rng.random()
        return word.upper() if case < 0.08 else word.capitalize() if case < 0.25 else word
    if kind < 0.65:
        return rng.choice(EMOJI) * rng.choice([1, 1, 1, 2, 3])
    if kind < 0.77:
        return rng.choice(NUMBERS)
    if kind < 0.87:
        return rng.choice(PUNCT) * rng.choice([1, 1, 2])
    if kind < 0.95:
        return rng.choice(WORDS["english"].split()) + rng.choice(CONTRACTIONS)
    return rng.choice(CODE)


def _line(rng: random.Random) -> str:
    if rng.random() < 0.1:
        return rng.choice(CODE)
    parts: list[str] = []
    for _ in range(rng.randint(1, 14)):
        parts.append(_word(rng))
        r = rng.random()
        sep = " " if r < 0.7 else "" if r < 0.8 else rng.choice(SPACES)
        parts.append(sep)
    if rng.random() < 0.15:
        parts.insert(0, rng.choice(SPACES))
    if rng.random() < 0.3:
        parts.pop()  # most lines do not end in white space
    return unicodedata.normalize("NFC", "".join(parts))


def lines(count: int = 12000, seed: int = 15) -> list[str]:
    """`count` lines from `seed`, each non-empty (some hold newlines: cut documents at NUL)."""
    rng = random.Random(seed)
    out = []
    while len(out) < count:
        line = _line(rng)
        if line:
            out.append(line)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=12000)
    args = parser.parse_args()
    sys.stdout.write("\0".join(lines(args.lines)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
