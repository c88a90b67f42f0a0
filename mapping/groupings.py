"""The codes of the five THRIVE needs-based groupings: the one definition every app
imports. The Grouping rows (mapping.models, seeded from mapping.reference_data) carry
these codes with their labels, which a site's wording may change; the codes never
change. Plain Python, so the gap engine can use them without Django."""

THRIVING = "thriving"
ADVICE = "getting-advice"
HELP = "getting-help"
MORE_HELP = "getting-more-help"
RISK = "getting-risk-support"

# In THRIVE order.
GROUPING_CODES = (THRIVING, ADVICE, HELP, MORE_HELP, RISK)
# The groupings of children and young people with a probable mental disorder, across
# which need is split; Thriving is a share of the whole population instead.
HELP_GROUPINGS = (ADVICE, HELP, MORE_HELP, RISK)
