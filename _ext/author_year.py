"""A bibliography that reads like the citations: "Saxena et al., 2008", sorted by author and year.

The book cites in author-year form: ``{cite:p}`saxena2008damage``` renders "(Saxena et al.,
2008)", ``{cite:t}`kingma2015adam``` "Kingma and Ba (2015)". sphinxcontrib-bibtex's own label styles
would label the list entries "[SGSE08]" or "[1]", which a reader cannot match to the text. This
registers, both under the name ``amnl_author_year``:

- a citation style (``bibtex_reference_style``): sphinxcontrib-bibtex's ``author_year`` in round
  brackets;
- a bibliography style (``bibtex_default_style``): pybtex's ``plain`` formatting of each entry,
  sorted by author, year and title (ignoring case and TeX braces), each labelled with the same
  author-year text as its citations. Two entries with the same label get "a", "b", ... after the
  year, in the list and in the citations alike ("book-ai.org, 2026a"): the citation's year is read
  from the entry's list label (:func:`labelled_year`), so the two can never disagree.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, fields

from pybtex.plugin import register_plugin
from pybtex.richtext import Text
from pybtex.style.formatting.plain import Style as PlainStyle
from pybtex.style.labels import BaseLabelStyle
from pybtex.style.sorting.author_year_title import SortingStyle
from pybtex.style.template import node
from sphinx.application import Sphinx
from sphinxcontrib.bibtex.plugin import register_plugin as register_bibtex_plugin
from sphinxcontrib.bibtex.style.referencing import BracketStyle
from sphinxcontrib.bibtex.style.referencing.author_year import AuthorYearReferenceStyle
from sphinxcontrib.bibtex.style.referencing.basic_author_year import (
    BasicAuthorYearParentheticalReferenceStyle,
    BasicAuthorYearTextualReferenceStyle,
)
from sphinxcontrib.bibtex.style.referencing.extra_year import ExtraYearReferenceStyle
from sphinxcontrib.bibtex.style.template import join, join2, post_text, pre_text, reference

#: The bibliography style (``bibtex_default_style``) and the citation style
#: (``bibtex_reference_style``) this registers.
NAME = "amnl_author_year"


def _last_name(person) -> str:
    """A person's last name as plain text ("{book-ai.org}" -> "book-ai.org", LaTeX accents decoded)."""
    return Text.from_latex(" ".join(person.prelast_names + person.last_names)).render_as("text")


def author_year_label(entry) -> str:
    """"Kingma and Ba, 2015", "Saxena et al., 2008", "Krokotsch, 2024": as the citations read."""
    persons = entry.persons.get("author") or entry.persons.get("editor") or []
    names = [_last_name(p) for p in persons]
    if not names:
        who = entry.fields.get("key") or entry.key
    elif len(names) == 1:
        who = names[0]
    elif len(names) == 2:
        who = f"{names[0]} and {names[1]}"
    else:
        who = f"{names[0]} et al."
    return f"{who}, {entry.fields.get('year', 'n.d.')}"


class AuthorYearLabels(BaseLabelStyle):
    def format_labels(self, sorted_entries):
        entries = list(sorted_entries)
        labels = [author_year_label(e) for e in entries]
        repeated = {label for label, n in Counter(labels).items() if n > 1}
        seen: Counter = Counter()
        for label in labels:
            if label in repeated:
                yield label + "abcdefghijklmnopqrstuvwxyz"[seen[label]]
                seen[label] += 1
            else:
                yield label


class AuthorYearSorting(SortingStyle):
    """Author, year, title, ignoring case and TeX braces ("{book-ai.org}" sorts among the Bs)."""

    def sorting_key(self, entry):
        return tuple(
            k.replace("{", "").replace("}", "").lower() if isinstance(k, str) else k
            for k in super().sorting_key(entry)
        )


class AuthorYearStyle(PlainStyle):
    default_label_style = AuthorYearLabels
    default_sorting_style = AuthorYearSorting


@node
def labelled_year(children, data) -> Text:
    """The year as the bibliography labels it: "2026a" where two entries share "book-ai.org, 2026"
    (the part of :class:`AuthorYearLabels`' label after the last ", ")."""
    assert not children
    return Text(data["formatted_entry"].label.rsplit(", ", 1)[-1])


class _Parenthetical(BasicAuthorYearParentheticalReferenceStyle):
    def inner(self, role_name):
        return join2(sep1=self.pre_text_sep, sep2=self.post_text_sep)[
            pre_text,
            reference[join(sep=self.author_year_sep)[
                self.person.author_or_editor_or_title(full="s" in role_name), labelled_year]],
            post_text,
        ]


class _Textual(BasicAuthorYearTextualReferenceStyle):
    def inner(self, role_name):
        return join(sep=self.text_reference_sep)[
            self.person.author_or_editor_or_title(full="s" in role_name),
            join[self.bracket.left,
                 join2(sep1=self.pre_text_sep, sep2=self.post_text_sep)[pre_text, reference[labelled_year], post_text],
                 self.bracket.right],
        ]


class _Year(ExtraYearReferenceStyle):
    def inner(self, role_name):
        return reference[labelled_year]


#: sphinxcontrib-bibtex's year-printing styles and their labelled-year twins.
_LABELLED = {BasicAuthorYearParentheticalReferenceStyle: _Parenthetical,
             BasicAuthorYearTextualReferenceStyle: _Textual, ExtraYearReferenceStyle: _Year}


def _round() -> BracketStyle:
    return BracketStyle(left="(", right=")")


@dataclass
class RoundAuthorYearReferenceStyle(AuthorYearReferenceStyle):
    """sphinxcontrib-bibtex's author-year citations in round brackets: "(Saxena et al., 2008)",
    "Kingma and Ba (2015)" (its default brackets are square)."""

    bracket_parenthetical: BracketStyle = field(default_factory=_round)
    bracket_textual: BracketStyle = field(default_factory=_round)
    bracket_author: BracketStyle = field(default_factory=_round)
    bracket_label: BracketStyle = field(default_factory=_round)
    bracket_year: BracketStyle = field(default_factory=_round)

    def __post_init__(self):
        super().__post_init__()
        # the same sub-styles, printing the year as the bibliography labels it ("2026a")
        self.styles = [_LABELLED[type(s)](**{f.name: getattr(s, f.name) for f in fields(s)})
                       if type(s) in _LABELLED else s for s in self.styles]
        self.role_style.update((role, s) for s in self.styles for role in s.role_names())


def setup(app: Sphinx) -> dict:
    register_plugin("pybtex.style.formatting", NAME, AuthorYearStyle)
    register_bibtex_plugin("sphinxcontrib.bibtex.style.referencing", NAME, RoundAuthorYearReferenceStyle)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
