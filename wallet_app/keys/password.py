"""Password policy and a strength estimate for wallet passwords.

The wallet password is what stands between someone who copies the encrypted keystore and
the funds, so it is checked before anything is written. Two estimates are made and the
lower one counts:

* **zxcvbn** (the maintained ``zxcvbn`` package, Dropbox's estimator in pure Python): its
  dictionaries (30,000 common passwords, names, English words), keyboard graphs (qwerty,
  dvorak, keypads), repeats, sequences and dates. Its brute-force parts are charged at
  the size of the character classes used (zxcvbn charges 10 per character, which makes a
  random password look far weaker than it is). It also names the pattern a password is
  built on, which is what the refusal says.
* a small heuristic of our own, scanned left to right, each piece charged the bits an
  attacker who knows common patterns would need to guess it:

* a word from a list of very common passwords and words (with l33t substitutions undone)
  costs about log2(list size) bits, however long it is;
* runs of one character (``aaaa``), straight sequences (``abcd``, ``4321``) and keyboard
  walks (``qwerty``, ``asdf``) cost a few bits for their start and length;
* a repeat of an earlier part (``catcat``) costs only its position and length;
* a year (``1987``, ``2024``) costs ~8 bits;
* any other character costs log2(size of the character classes the password uses).

Policy: at least ``MIN_LENGTH`` (10) characters, not a common password or a common password
with digits/symbols around it, not containing the wallet name, not mostly a keyboard walk
(``qwertyuiop``, ``1qaz2wsx``) nor mostly a repeat (``catcatcat``, ``correct horse correct
horse``), and an estimate of at least ``MIN_BITS`` (45) bits. With scrypt n=2**18 each
guess costs ~0.25 s of CPU and 256 MiB, so 45 bits is out of reach of an offline attack on
a stolen keystore.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

from .errors import WeakPassword

MIN_LENGTH = 10
MAX_LENGTH = 1024
MIN_BITS = 45.0

# The most used passwords and password words (lower case, l33t undone); a heuristic list,
# not exhaustive: the per-character estimate does the rest.
_COMMON = frozenset(
    """
password passw0rd passwort motdepasse contrasena 123456 1234567 12345678 123456789
1234567890 qwerty qwertz azerty letmein welcome admin administrator root toor iloveyou
monkey dragon football baseball basketball soccer hockey sunshine princess master shadow
superman batman spiderman trustno1 starwars whatever freedom michael jennifer jordan
hunter hunter2 ranger buster killer george charlie andrew michelle jessica ashley daniel
thomas robert matthew joshua love lover loveme secret summer winter spring autumn flower
hello login access default changeme computer internet samsung google apple pokemon naruto
matrix cheese chocolate cookie pepper ginger tigger maggie lovely angel family friends
mother father mommy daddy baby orange banana purple yellow silver golden diamond guitar
music money dollar bitcoin ethereum crypto wallet metamask satoshi nakamoto blockchain
ledger trezor moon lambo hodl global index mnemonic seed phrase private key keystore
test tester testing qazwsx zaq12wsx asdfgh zxcvbn abc123 abcdef abcd1234 aaaaaa 111111
000000 123123 654321 666666 696969 121212 112233 888888 11111111 987654321 letmein1
welcome1 password1 iloveyou1 princess1 football1 monkey1 dragon1 master1 shadow1
mustang corvette ferrari porsche mercedes harley yankees cowboys eagles steelers lakers
liverpool arsenal chelsea barcelona madrid london paris berlin america canada australia
jesus christ heaven blessed forever nothing someone anything everything secure security
""".split()  # noqa: SIM905 - a word list reads better as text
)

_LEET = str.maketrans({"0": "o", "1": "l", "3": "e", "4": "a", "5": "s", "7": "t",
                       "@": "a", "$": "s", "!": "i", "|": "l", "+": "t", "8": "b"})
_KEYBOARD_ROWS = ("`1234567890-=", "qwertyuiop[]\\", "asdfghjkl;'", "zxcvbnm,./",
                  "qwertzuiop", "yxcvbnm", "azertyuiop", "qsdfghjklm", "wxcvbn")
_YEAR = re.compile(r"(19|20)\d\d")
_AFFIX = re.compile(r"^[\d\W_]*(.*?)[\d\W_]*$")
_LABELS = ("very weak", "weak", "fair", "good", "strong")

#: zxcvbn reads this many characters at most (its matching is quadratic; past 100
#: characters the length alone is far beyond the policy).
_ZXCVBN_MAX = 100
#: A keyboard walk or a repeat covering this share of the password refuses it outright.
_PATTERN_SHARE = 0.5
#: What each zxcvbn pattern is called in a refusal.
_WEAKNESS = {
    "spatial": "a keyboard walk (keys next to each other, like 'qwerty' or '1qaz2wsx')",
    "repeat": "a repeated word or run of characters (like 'catcat' or 'aaaa')",
    "sequence": "a sequence (like 'abcd' or '6543')",
    "dictionary": "common words, names or passwords",
    "date": "a date",
    "regex": "a year",
    "bruteforce": "too few characters outside common patterns",
}


@dataclass(frozen=True)
class PasswordStrength:
    """The estimate the GUI shows as a meter, and the verdict with its reason."""

    bits: float
    score: int  # 0..4, index into ("very weak", "weak", "fair", "good", "strong")
    label: str
    acceptable: bool
    reason: str | None  # why it is refused (None when acceptable)

    def __repr__(self) -> str:  # never include the password itself (it is not stored)
        return (f"PasswordStrength(bits={self.bits:.1f}, score={self.score}, "
                f"label={self.label!r}, acceptable={self.acceptable})")


def _pool_size(password: str) -> int:
    pool = 0
    if any(c.islower() and c.isascii() for c in password):
        pool += 26
    if any(c.isupper() and c.isascii() for c in password):
        pool += 26
    if any(c.isdigit() and c.isascii() for c in password):
        pool += 10
    if any(c.isascii() and not c.isalnum() for c in password):
        pool += 33
    if any(not c.isascii() for c in password):
        pool += 100
    return max(pool, 10)


def _sequence_len(s: str, i: int) -> int:
    """Length of a straight or keyboard sequence starting at i (0 if shorter than 3)."""
    best = 0
    for step in (1, -1):
        j = i + 1
        while j < len(s) and ord(s[j]) - ord(s[j - 1]) == step:
            j += 1
        best = max(best, j - i)
    for row in _KEYBOARD_ROWS:
        for text in (row, row[::-1]):
            k = 0
            pos = text.find(s[i])
            while pos >= 0 and i + k < len(s) and pos + k < len(text) and \
                    text[pos + k] == s[i + k]:
                k += 1
            best = max(best, k)
    return best if best >= 3 else 0


def _estimate_bits(password: str) -> float:
    low = password.lower()
    norm = low.translate(_LEET)
    per_char = math.log2(_pool_size(password))
    word_bits = math.log2(len(_COMMON)) + 1  # +1 for capitalisation variants
    bits = 0.0
    i = 0
    n = len(password)
    while i < n:
        # Longest common word starting here (min 4 letters).
        word = max((w for w in _COMMON if len(w) >= 4 and norm.startswith(w, i)),
                   key=len, default="")
        run = 1
        while i + run < n and low[i + run] == low[i]:
            run += 1
        seq = _sequence_len(low, i)
        year = _YEAR.match(password, i)
        rep = 0
        for size in range(min(i, n - i), 2, -1):
            if low[i:i + size] in low[:i]:
                rep = size
                break
        options = []
        if len(word) >= 4:
            options.append((len(word), word_bits))
        if run >= 3:
            options.append((run, per_char + math.log2(run)))
        if seq >= 3:
            options.append((seq, per_char + math.log2(seq) + 1))
        if year:
            options.append((4, math.log2(200)))
        if rep >= 3:
            options.append((rep, math.log2(max(i, 2)) + math.log2(rep)))
        if options:
            # The cheapest explanation per character covered is what an attacker uses.
            length, cost = min(options, key=lambda o: (o[1] / o[0], -o[0]))
            if cost < per_char * length:
                bits += cost
                i += length
                continue
        bits += per_char
        i += 1
    return bits


@dataclass(frozen=True)
class _Zxcvbn:
    bits: float  # zxcvbn's guesses, brute-force parts charged at the character pool
    weakness: str  # the pattern covering most of the password ("bruteforce" if none)
    walk_share: float  # share of characters inside keyboard walks of 4+ keys
    repeat_share: float  # share of characters inside repeats (case-insensitive)


def _covered(matches: Iterable[dict], n: int, min_len: int = 1) -> float:
    seen = set()
    for m in matches:
        if m["j"] - m["i"] + 1 >= min_len:
            seen.update(range(m["i"], m["j"] + 1))
    return len(seen) / n if n else 0.0


def _repeated_words_share(text: str) -> float:
    """Share of characters in words (3+ letters) that occur more than once, any case:
    zxcvbn sees ``aXaX`` repeats but not ``purple tractor purple tractor``."""
    words = re.findall(r"[^\W_]{3,}", text.lower())
    repeated = sum(len(w) for w in words if words.count(w) > 1)
    return repeated / len(text) if text else 0.0


def _zxcvbn(password: str, context: list[str]) -> _Zxcvbn:
    from zxcvbn import zxcvbn  # 0.15 s of dictionaries: loaded when a password is checked
    from zxcvbn.matching import repeat_match, spatial_match

    text = password[:_ZXCVBN_MAX]
    result = zxcvbn(text, user_inputs=context)
    pool = math.log2(_pool_size(password))
    bits = math.log2(max(float(result["guesses"]), 1.0))
    longest: dict[str, int] = {}
    for m in result["sequence"]:
        size = m["j"] - m["i"] + 1
        if m["pattern"] == "bruteforce":
            bits += size * max(pool - math.log2(10), 0.0)
        else:
            longest[m["pattern"]] = max(longest.get(m["pattern"], 0), size)
    bits += (len(password) - len(text)) * pool
    weakness = max(longest, key=lambda k: longest[k]) if longest else "bruteforce"
    return _Zxcvbn(bits, weakness, _covered(spatial_match(text), len(text), 4),
                   max(_covered(repeat_match(text.lower()), len(text)),
                       _repeated_words_share(text)))


def estimate(password: str, context: Iterable[str] = ()) -> PasswordStrength:
    """Estimate strength and decide acceptability; ``context`` = words to avoid (name)."""
    reason: str | None = None
    context = [c for c in context if c]
    z = _zxcvbn(password, context) if password else None
    bits = min(_estimate_bits(password), z.bits) if z is not None else 0.0
    norm = password.lower().translate(_LEET)
    core = _AFFIX.match(password.lower())  # strip digits/symbols around, then undo l33t
    core_word = (core.group(1) if core else password.lower()).translate(_LEET)
    ctx = [c.lower() for c in context if c and len(c) >= 3]
    if len(password) < MIN_LENGTH:
        reason = (f"it has {len(password)} characters; use at least {MIN_LENGTH} "
                  "(a few unrelated words make a strong, memorable password)")
    elif len(password) > MAX_LENGTH:
        reason = f"it is longer than {MAX_LENGTH} characters"
    elif norm in _COMMON or core_word in _COMMON:
        reason = ("it is a very common password or a common password with digits or symbols "
                  "added; attackers try those first")
        bits = min(bits, 10.0)
    elif any(c in password.lower() or c in norm for c in ctx):
        reason = "it contains the wallet name; choose something unrelated to it"
        bits = min(bits, MIN_BITS - 1)
    elif z is not None and z.walk_share >= _PATTERN_SHARE:
        reason = (f"it is mostly {_WEAKNESS['spatial']}, which attackers try early; use "
                  "a few unrelated words instead")
        bits = min(bits, MIN_BITS - 1)
    elif z is not None and z.repeat_share >= _PATTERN_SHARE:
        reason = (f"it is mostly {_WEAKNESS['repeat']}: a repeat adds almost nothing to "
                  "what is repeated; use different words instead")
        bits = min(bits, MIN_BITS - 1)
    elif bits < MIN_BITS:
        built_on = _WEAKNESS[z.weakness] if z is not None else _WEAKNESS["bruteforce"]
        reason = (f"it is too easy to guess (about {bits:.0f} bits; at least {MIN_BITS:.0f} "
                  f"needed): it is built on {built_on}. Make it longer or add unrelated "
                  "words")
    score = 0 if bits < 28 else 1 if bits < 36 else 2 if bits < MIN_BITS else \
        3 if bits < 70 else 4
    if reason is not None:
        score = min(score, 1)
    return PasswordStrength(round(bits, 1), score, _LABELS[score], reason is None, reason)


def require_acceptable(password: str, context: Iterable[str] = ()) -> PasswordStrength:
    """Return the estimate or raise :class:`WeakPassword` with the reason."""
    result = estimate(password, context)
    if not result.acceptable:
        raise WeakPassword(result.reason or "it does not meet the policy")
    return result
