"""The backup check: does the person's written copy of the recovery phrase match?

Why a module of its own: the check is asked for at creation and again whenever the person
chooses (``index-wallet wallet verify-backup``, the app's banner), and its answer must say
*which* word is wrong, so that someone who misread one word of 24 fixes that one instead
of starting over. The words are compared in constant time, one position at a time, against
the phrase decrypted from the keystore (never against what a screen showed).
"""

from __future__ import annotations

import hmac
import secrets
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from random import Random

from .mnemonic import split_phrase


@dataclass(frozen=True)
class BackupCheck:
    """The outcome: ``ok`` when every asked word matched, else the positions that did not.

    Truthy exactly when ``ok`` (callers written for a bool keep working).
    """

    ok: bool
    positions: tuple[int, ...]  # the 1-based positions that were asked
    wrong: tuple[int, ...]  # the 1-based positions whose word does not match

    def __bool__(self) -> bool:
        return self.ok

    def message(self) -> str:
        """A sentence for the CLI and the GUI; names positions, never a word."""
        if self.ok:
            return "Backup OK: the words match your recovery phrase."
        if not self.wrong:
            return "Backup check FAILED: no word was given."
        listed = ", ".join(f"#{p}" for p in self.wrong)
        one = len(self.wrong) == 1
        return (f"Backup check FAILED: {'word' if one else 'words'} {listed} "
                f"{'does' if one else 'do'} not match your recovery phrase (positions count "
                f"from 1). Check {'that word' if one else 'those words'} on your written "
                "copy.")


def unchecked_warning(name: str) -> str:
    """What the CLI and the app say about a phrase wallet whose backup check has not passed."""
    return (f"Wallet '{name}': the backup of its recovery phrase has not been checked. If "
            "this computer is lost, the phrase is the only way back to the funds: check it "
            f"now with `index-wallet wallet verify-backup {name}` (or Check backup in the app).")


def challenge(word_count: int, k: int = 3, rng: Random | None = None) -> list[int]:
    """``k`` distinct random word positions (1-based, sorted) to ask the person for."""
    if not 1 <= k <= word_count:
        raise ValueError(f"k must be between 1 and {word_count}")
    rng = rng or secrets.SystemRandom()
    return sorted(rng.sample(range(1, word_count + 1), k))


def compare(words: Sequence[str], answers: Mapping[int, str]) -> BackupCheck:
    """Compare each answered position with the phrase's word there."""
    asked = tuple(sorted(p for p in answers if isinstance(p, int)))
    wrong = [p for p in answers if not isinstance(p, int)]  # a malformed key never passes
    for pos in asked:
        given = split_phrase(unicodedata.normalize("NFKD", str(answers[pos])))
        if not 1 <= pos <= len(words) or len(given) != 1 or not hmac.compare_digest(
                given[0].encode(), words[pos - 1].encode()):
            wrong.append(pos)
    ok = bool(asked) and not wrong
    return BackupCheck(ok, asked, tuple(sorted(p for p in wrong if isinstance(p, int))))
