"""The split-bank experiment's halves (README, "Reliability", seventh
pass): doctext's "train-a" / "train-b" banks split the train positions
of every bank and never reach a test position, a half draws no
tuning-only material unless asked, and templates.py's tuning halves
split the tuning templates and reports without overlap. Exit status 77
(skip) when templates.py's imaging modules are missing."""
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "samples"))
sys.path.insert(0, HERE)

import doctext  # noqa: E402


def banks():
    for spec in doctext.DOCS.values():
        yield spec.get("titles", [])
        for headings, sentences in spec.get("sections", []):
            yield headings
            yield sentences
        for titles, sentences in spec.get("kinds", []):
            yield titles
            yield sentences
    for key in doctext.SPLIT_VALUES:
        yield doctext.VALUES[key]


def check_banks():
    shared = 0
    for bank in banks():
        if not bank:
            continue
        train, test = doctext.half(bank, "train"), doctext.half(bank, "test")
        a, b = doctext.half(bank, "train-a"), doctext.half(bank, "train-b")
        assert set(a) <= set(train) and set(b) <= set(train), bank
        if len(train) > 1:
            assert not set(a) & set(b), bank
            assert sorted(a + b, key=train.index) == train, bank
            assert not (set(a) | set(b)) & (set(test) - set(train)), bank
        else:
            shared += 1
            assert a == b == train, bank
    assert shared < 60, "too many banks shared by both halves: %d" % shared


def check_tuning_material():
    titles = {t for t in doctext.TUNING_LETTER["titles"] if t} | set(doctext.TUNING_EMERGENCY["titles"])
    titles |= {t for ts, _ in doctext.TUNING_OTHER_KINDS for t in ts}
    # the tuning titles the ordinary banks also hold tell nothing
    ordinary = {t for spec in doctext.DOCS.values() for t in spec.get("titles", [])}
    ordinary |= {t for ts, _ in doctext.DOCS["other"]["kinds"] for t in ts}
    titles -= ordinary
    def drawn(split, tuning=None):
        rng = random.Random(5)
        found = set()
        for _ in range(40):
            for t in ("correspondence", "emergency-record", "other"):
                meta = {}
                doctext.document(rng, t, split, meta, tuning=tuning)
                found.add(meta["title"])
        return found & titles
    assert drawn("train"), "the train split draws the tuning-only material"
    assert not drawn("train-a") and not drawn("train-b"), "a half draws it only when asked"
    assert drawn("train-a", tuning=True), "a half draws it when asked"
    assert not drawn("test") and not drawn("test", tuning=True), "the test split never draws it"


def check_templates():
    try:
        import templates
    except ImportError as e:
        print("SKIP: templates.py cannot be imported (%s)" % e)
        return False
    tune_t, test_t = templates.templates()
    mt = {"x": ["r%d" % i for i in range(7)]}
    a_t, a_split, a_mt = templates.tuning_half("tune-a", tune_t, mt)
    b_t, b_split, b_mt = templates.tuning_half("tune-b", tune_t, mt)
    assert (a_split, b_split) == ("train-a", "train-b")
    assert not {t.index for t in a_t} & {t.index for t in b_t}
    assert {t.index for t in a_t} | {t.index for t in b_t} == {t.index for t in tune_t}
    assert not set(a_mt["x"]) & set(b_mt["x"]) and sorted(a_mt["x"] + b_mt["x"]) == sorted(mt["x"])
    return True


if __name__ == "__main__":
    check_banks()
    check_tuning_material()
    if not check_templates():
        sys.exit(77)
    print("ok")
