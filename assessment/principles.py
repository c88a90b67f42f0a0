"""The eight THRIVE principles' codes, in the order of the framework.

A loaded instrument (assessment.models.Principle) is the source of each principle's
label; FALLBACK_PRINCIPLES gives the labels used only while no instrument is loaded.
Plain Python, so the gap engine can name the principle a gap bears on without Django.
"""

COMMON_LANGUAGE = "common-language"
NEEDS_LED = "needs-led"
SHARED_DECISION_MAKING = "shared-decision-making"
PREVENTION = "proactive-prevention"
PARTNERSHIP = "partnership-working"
OUTCOME_INFORMED = "outcome-informed"
REDUCING_STIGMA = "reducing-stigma"
ACCESSIBILITY = "accessibility"

FALLBACK_PRINCIPLES: tuple[tuple[str, str], ...] = (
    (COMMON_LANGUAGE, "Common Language"),
    (NEEDS_LED, "Needs-Led"),
    (SHARED_DECISION_MAKING, "Shared Decision Making"),
    (PREVENTION, "Proactive Prevention and Promotion"),
    (PARTNERSHIP, "Partnership Working"),
    (OUTCOME_INFORMED, "Outcome-Informed"),
    (REDUCING_STIGMA, "Reducing Stigma"),
    (ACCESSIBILITY, "Accessibility"),
)
