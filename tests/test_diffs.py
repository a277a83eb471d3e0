"""Word-level diffs for the review screen (therapyinfo/diffs.py)."""

from therapyinfo.diffs import CONTEXT_WORDS, marked_diff, word_diff


def long_text(dose):
    opening = " ".join(f"opening{i}" for i in range(50))
    closing = " ".join(f"closing{i}" for i in range(50))
    return f"{opening} the dose is {dose} mg per session.\n\n{closing}"


def test_a_changed_number_is_marked_and_far_text_collapsed():
    html = word_diff(long_text(56), long_text(84))
    assert "<del>56</del><ins>84</ins>" in html
    assert "opening0 " not in html and "closing49" not in html
    assert html.count('class="diff-gap"') == 2
    assert "[… 47 unchanged words …]" in html  # 50 + 3 words before it, 6 kept
    # A few words of context stay on each side of the change.
    assert "opening49 the dose is <del>" in html and "</ins> mg per session." in html


def test_context_is_a_fixed_number_of_words():
    html = word_diff(long_text(56), long_text(84))
    before_change = html.split("<del>")[0].split("</span>")[-1]
    assert len(before_change.split()) == CONTEXT_WORDS


def test_short_text_is_shown_whole():
    assert word_diff("Take it with food.", "Take it without food.") == (
        "Take it <del>with</del><ins>without</ins> food."
    )


def test_content_html_is_escaped_never_rendered():
    html = word_diff('Call <a href="tel:988">988</a>', "Call <script>alert(1)</script>")
    assert "<script>" not in html and "<a " not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<del>&lt;a href=&quot;tel:988&quot;&gt;988&lt;/a&gt;</del>" in html


def test_line_breaks_are_kept_where_the_editor_put_them():
    assert word_diff("One.\nTwo.", "One.\nThree.") == "One.\n<del>Two.</del><ins>Three.</ins>"


def test_rows_added_removed_and_changed_keep_their_kind():
    diff = {
        "fields": [("Summary", "old words", "new words")],
        "rows": [
            ("Sections", "added", "New section", [("Body", "(empty)", "Fresh <text>")]),
            ("Sections", "removed", "Old section", []),
            ("Sections", "changed", "Dosing", [("Body", "56 mg", "84 mg")]),
        ],
    }
    marked = marked_diff(diff)
    assert marked["fields"] == [("Summary", "<del>old</del><ins>new</ins> words", "")]
    kinds = [(kind, label) for _group, kind, label, _changes in marked["rows"]]
    assert kinds == [("added", "New section"), ("removed", "Old section"), ("changed", "Dosing")]
    assert marked["rows"][0][3] == [("Body", "<ins>Fresh &lt;text&gt;</ins>", "")]
    assert marked["rows"][2][3] == [("Body", "<del>56</del><ins>84</ins> mg", "")]


def test_a_rewritten_phrase_reads_as_one_change_not_word_by_word():
    html = word_diff("Stay with staff there all day.", "Stay with talking support.")
    assert html == "Stay with <del>staff there all day.</del><ins>talking support.</ins>"


def test_prose_is_also_offered_in_full():
    new = "A cell an editor rewrote with more words."
    ((_label, _html, full),) = marked_diff({"fields": [("Text", "Old.", new)], "rows": []})[
        "fields"
    ]
    assert full == new
