"""Snippets: the best passage, cut at word boundaries, marked and escaped."""

from indexer.index.schema import text_analyzer
from indexer.search.snippets import best_passage


def snippet(texts, *terms):
    return best_passage(texts, set(terms), text_analyzer(), max_chars=80)


def test_the_passage_with_most_distinct_terms_wins():
    text = ("Heart disease is common. " * 5) + "Heart failure patients walk daily. " + "x " * 50
    out = snippet([text], "heart", "failur")  # the stems the query analyzer makes
    assert "<mark>Heart</mark> <mark>failure</mark>" in out
    assert out.startswith("…") and out.endswith("…")


def test_cuts_fall_on_word_boundaries_after_paragraph_breaks():
    text = "First paragraph words here.\n\nSecondary aims include asthma control " + "y " * 60
    out = snippet([text], "asthma")
    assert "…condary" not in out
    assert "<mark>asthma</mark>" in out


def test_escapes_everything_but_marks():
    out = snippet(["<script>alert(1)</script> asthma & more"], "asthma")
    assert out == "&lt;script&gt;alert(1)&lt;/script&gt; <mark>asthma</mark> &amp; more"


def test_falls_back_to_the_first_text_without_matches():
    assert snippet(["Plain summary.", "Other text."], "zebra") == "Plain summary."
    assert snippet([None, "", "Only this."], "zebra") == "Only this."
