"Shared test helpers: the verdicts of a lesson's exercise checks."
import pytest


class Verdicts:
    "Assert what a `check_...` prints and returns for an answer (it never raises)."
    def __init__(self, capsys): self.capsys = capsys

    def accepted(self, check, fn):
        "The check returns True and prints 'Correct'."
        assert check(fn) is True
        assert self.capsys.readouterr().out.startswith('Correct')

    def rejected(self, check, fn, hint):
        "The check returns False and prints 'Not yet' with `hint`."
        assert check(fn) is False
        out = self.capsys.readouterr().out
        assert out.startswith('Not yet') and hint in out, out


@pytest.fixture
def verdicts(capsys) -> Verdicts: return Verdicts(capsys)
