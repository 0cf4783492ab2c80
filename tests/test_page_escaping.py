"""One escaping layer for every page: text is escaped unless code marks it as markup."""

import pandas as pd

from durationbt.report.html import Markup, html, render_page, section, table_html

ATTACK = "<script>alert('x')</script>"


def test_plain_text_is_escaped_everywhere_markup_is_kept():
    card = section(ATTACK, ATTACK, html("<p>{}</p>", ATTACK), note=ATTACK)
    assert isinstance(card, Markup)
    assert "<script>" not in card
    assert card.count("&lt;script&gt;") == 4
    assert "<p>&lt;script&gt;" in card                     # the trusted <p>, the text escaped
    page = render_page(ATTACK, ATTACK, [card, ATTACK], footer=ATTACK)
    assert "<script>alert" not in page
    # title twice (<title>, <h1>), subtitle, four in the card, the plain body part, footer
    assert page.count("&lt;script&gt;alert") == 9
    assert page.count("<section>") == 1                    # the card itself is not escaped


def test_table_cells_headers_and_sort_values_are_escaped():
    frame = pd.DataFrame({ATTACK: [ATTACK, 1.5]}, index=[ATTACK, "b"])
    table = table_html(frame, index_label=ATTACK)
    assert "<script>" not in table and "&lt;script&gt;" in table
    assert 'data-v="1.5"' in table
