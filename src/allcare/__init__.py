"""allcare: explainable decision support for acute lymphoblastic leukaemia (ALL).

The public entry points are re-exported here so that scripts can write
``from allcare import assess, Case`` without knowing the package layout.
This is decision support for professionals, not a diagnosis.
"""

__version__ = "0.1.0"

DISCLAIMER = (
    "allcare is decision support for qualified professionals, not a diagnosis. "
    "Every conclusion must be checked against the full clinical picture by the treating team."
)
