"""BIP-39 recovery phrases: generate, parse with helpful errors, and derive the seed.

Implemented here on ``hashlib`` (SHA-256 checksum, PBKDF2-HMAC-SHA512 seed) rather than
through a library so that a bad phrase can be explained word by word (which word, where,
and the closest valid words) and so that the phrase can be kept as its entropy in a
wipeable ``bytearray``: the words themselves are then only references into the shared
word list, and no secret-specific string needs to exist until the phrase is displayed.

The English word list is the one bundled with eth-account (``eth_account.hdaccount``); its
SHA-256 is checked against the value published in BIP-39 before first use, so a modified
file can never silently produce different phrases.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from functools import lru_cache
from importlib import resources
from typing import NoReturn

from .errors import InvalidMnemonic
from .sensitive import SecretBytes, wipe

#: Word counts BIP-39 defines (128 to 256 bits of entropy).
WORD_COUNTS = (12, 15, 18, 21, 24)
#: Word counts offered when creating a wallet (24 by default; 12 allowed).
CREATE_WORD_COUNTS = (12, 24)
#: SHA-256 of english.txt as published in the BIP-39 repository.
ENGLISH_WORDLIST_SHA256 = "2f5eed53a4727b4bf8880d8f3f199efc90e58503646d9ff8eff3a2ed3b24dbda"
_PBKDF2_ROUNDS = 2048
# Tokens like "7." or "12)" that people copy along with numbered backups.
_NUMBERING = re.compile(r"^\d+[.):]?$")


@lru_cache(maxsize=1)
def wordlist() -> tuple[str, ...]:
    """The 2048 English words, after verifying the file's published hash."""
    raw = (resources.files("eth_account.hdaccount") / "wordlist" / "english.txt").read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if digest != ENGLISH_WORDLIST_SHA256:
        raise RuntimeError(
            "The BIP-39 English word list shipped with eth-account does not match the "
            f"published hash (got {digest}). Reinstall eth-account."
        )
    words = tuple(raw.decode("ascii").split())
    if len(words) != 2048:
        raise RuntimeError("The BIP-39 English word list must hold 2048 words.")
    return words


@lru_cache(maxsize=1)
def _word_index() -> dict[str, int]:
    return {w: i for i, w in enumerate(wordlist())}


def _checksum_bits(entropy: bytes | bytearray) -> tuple[int, int]:
    """(checksum value, number of checksum bits) for an entropy of 16..32 bytes."""
    bits = len(entropy) * 8 // 32
    first = hashlib.sha256(entropy).digest()[0]
    return first >> (8 - bits), bits


def entropy_to_words(entropy: bytes | bytearray) -> list[str]:
    """The words for an entropy (16, 20, 24, 28 or 32 bytes), as references to the list."""
    if len(entropy) not in (16, 20, 24, 28, 32):
        raise ValueError("BIP-39 entropy must be 16, 20, 24, 28 or 32 bytes")
    checksum, cs_bits = _checksum_bits(entropy)
    value = (int.from_bytes(entropy, "big") << cs_bits) | checksum
    count = (len(entropy) * 8 + cs_bits) // 11
    words = wordlist()
    out = [words[(value >> (11 * (count - 1 - i))) & 0x7FF] for i in range(count)]
    del value
    return out


def closest_words(word: str, limit: int = 3) -> list[str]:
    """Valid words nearest to a mistyped one, best first.

    Ranked by edit distance with adjacent transpositions (the usual typing slips), then
    by the length of the shared prefix (BIP-39 words are unique in their first four
    letters, so a correct start is strong evidence).
    """
    word = word.lower()
    scored = []
    for cand in wordlist():
        dist = _edit_distance(word, cand)
        prefix = len(_common_prefix(word, cand))
        scored.append((dist, -prefix, cand))
    scored.sort()
    near = [c for d, _, c in scored if d <= max(2, len(word) // 3)]
    if near:
        return near[:limit]
    by_prefix = sorted(scored, key=lambda t: (t[1], t[0], t[2]))
    return [c for _, _, c in by_prefix[:limit]]


def _common_prefix(a: str, b: str) -> str:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return a[:n]


def _edit_distance(a: str, b: str) -> int:
    """Optimal string alignment distance (insert, delete, substitute, swap neighbours)."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]


def split_phrase(phrase: str) -> list[str]:
    """Normalise a typed or pasted phrase into lowercase words.

    NFKD as BIP-39 requires, any whitespace or commas as separators, and numbering such
    as ``"1."`` dropped, so that a copy of a numbered paper backup still parses.
    """
    text = unicodedata.normalize("NFKD", phrase).lower().replace(",", " ")
    return [t for t in text.split() if not _NUMBERING.match(t)]


def phrase_to_entropy(phrase: str) -> bytearray:
    """Parse and check a phrase; return its entropy or raise :class:`InvalidMnemonic`.

    The error names the first unknown word (position and spelling) with the closest
    valid words, or says how many words were given, or that the checksum failed.
    """
    words = split_phrase(phrase)
    if not words:
        raise InvalidMnemonic("The recovery phrase is empty. Type or paste its words.")
    index = _word_index()
    unknown = [(pos, w) for pos, w in enumerate(words, start=1) if w not in index]
    if unknown:
        _raise_unknown(unknown)
    if len(words) not in WORD_COUNTS:
        raise InvalidMnemonic(
            f"The recovery phrase has {len(words)} words; a BIP-39 phrase has 12, 15, 18, "
            "21 or 24. Check that no word is missing or repeated."
        )
    value = 0
    for w in words:
        value = (value << 11) | index[w]
    total_bits = 11 * len(words)
    cs_bits = total_bits // 33
    ent_bits = total_bits - cs_bits
    entropy = bytearray((value >> cs_bits).to_bytes(ent_bits // 8, "big"))
    stored = value & ((1 << cs_bits) - 1)
    del value
    expected, _ = _checksum_bits(entropy)
    if not secrets.compare_digest(stored.to_bytes(1, "big"), expected.to_bytes(1, "big")):
        wipe(entropy)
        raise InvalidMnemonic(
            f"All {len(words)} words are valid, but the phrase's checksum does not match: "
            "at least one word is wrong or two words are swapped (the last word also "
            "carries the checksum). Compare each word with your backup."
        )
    return entropy


def _raise_unknown(unknown: list[tuple[int, str]]) -> NoReturn:
    pos, word = unknown[0]
    near = closest_words(word)
    more = ""
    if len(unknown) > 1:
        others = ", ".join(str(p) for p, _ in unknown[1:])
        more = f" Words at positions {others} are not valid either."
    raise InvalidMnemonic(
        f"Word {pos} ('{word}') is not in the BIP-39 English word list. "
        f"Closest valid words: {', '.join(near)}.{more} Nothing was imported.",
        position=pos,
        word=word,
        suggestions=near,
    )


def seed_from_entropy(entropy: bytes | bytearray, passphrase: str = "") -> SecretBytes:
    """The 64-byte BIP-39 seed: PBKDF2-HMAC-SHA512(phrase, "mnemonic" + passphrase, 2048)."""
    words = entropy_to_words(entropy)
    phrase = bytearray(b" ".join(w.encode("ascii") for w in words))
    salt = bytearray(b"mnemonic" + unicodedata.normalize("NFKD", passphrase).encode("utf-8"))
    try:
        seed = SecretBytes(hashlib.pbkdf2_hmac("sha512", phrase, salt, _PBKDF2_ROUNDS, 64))
    finally:
        wipe(phrase)
        wipe(salt)
    return seed


class RecoveryPhrase:
    """A BIP-39 phrase (plus optional passphrase) that hides itself.

    What ``create`` and ``reveal_mnemonic`` return: the GUI reads :attr:`words` to show
    them once; ``repr``/``str`` print only the word count, pickling is refused, and
    :meth:`wipe` zeroes the entropy when the dialog closes.
    """

    __slots__ = ("_entropy", "_passphrase")

    def __init__(self, entropy: bytes | bytearray, passphrase: str = "") -> None:
        if len(entropy) not in (16, 20, 24, 28, 32):
            raise ValueError("BIP-39 entropy must be 16, 20, 24, 28 or 32 bytes")
        self._entropy = SecretBytes(entropy)
        self._passphrase = unicodedata.normalize("NFKD", passphrase)

    @classmethod
    def generate(cls, words: int = 24, passphrase: str = "") -> RecoveryPhrase:
        """A fresh phrase from the OS CSPRNG (``secrets``)."""
        if words not in CREATE_WORD_COUNTS:
            raise ValueError(f"a new phrase has 12 or 24 words, not {words}")
        return cls(secrets.token_bytes(words * 4 // 3), passphrase)

    @classmethod
    def from_phrase(cls, phrase: str, passphrase: str = "") -> RecoveryPhrase:
        """Parse a typed phrase (raises :class:`InvalidMnemonic` with the reason)."""
        entropy = phrase_to_entropy(phrase)
        try:
            return cls(entropy, passphrase)
        finally:
            wipe(entropy)

    @property
    def words(self) -> list[str]:
        """The words, for display (a new list each call)."""
        return entropy_to_words(self._entropy.view())

    @property
    def phrase(self) -> str:
        """The words joined by single spaces (creates a string: use only to display)."""
        return " ".join(self.words)

    @property
    def word_count(self) -> int:
        return len(self._entropy) * 8 * 33 // 32 // 11

    @property
    def passphrase(self) -> str:
        """The optional BIP-39 passphrase ("25th word"), NFKD-normalised."""
        return self._passphrase

    @property
    def has_passphrase(self) -> bool:
        return bool(self._passphrase)

    def entropy(self) -> bytearray:
        """The raw entropy buffer (the keystore encrypts this; do not keep a copy)."""
        return self._entropy.view()

    def seed(self) -> SecretBytes:
        """The 64-byte BIP-32 seed for this phrase and passphrase."""
        return seed_from_entropy(self._entropy.view(), self._passphrase)

    def wipe(self) -> None:
        """Zero the entropy and drop the passphrase; the object is unusable afterwards."""
        self._entropy.wipe()
        self._passphrase = ""

    def __repr__(self) -> str:
        if self._entropy.wiped:
            return "<RecoveryPhrase wiped>"
        extra = " + passphrase" if self._passphrase else ""
        return f"<RecoveryPhrase {self.word_count} words{extra}, hidden>"

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        raise TypeError("a recovery phrase cannot be pickled")

    def __eq__(self, other: object) -> bool:
        if isinstance(other, RecoveryPhrase):
            return self._entropy == other._entropy and secrets.compare_digest(
                self._passphrase.encode(), other._passphrase.encode()
            )
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]
