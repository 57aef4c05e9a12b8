"""Safety guardrails for the patient FAQ assistant.

    >>> import guardrails
    >>> guard = guardrails.Guardrails(guardrails.load_policy())
    >>> guard.run("I want to die. Also how long is a session?").route
    'crisis'

The rule layer imports only the standard library and PyYAML; ``CrisisSimilarity`` imports
numpy and takes any embedding function, so no model is loaded here.
"""

from .detectors import CrisisDetector, DosingDetector, MedicalAdviceDetector, ScopeDetector
from .dose import find_dose_amounts
from .engine import Guardrails
from .normalize import normalize
from .policy import Policy, PolicyError, Resource, load_policy, render
from .verdict import ROUTES, Verdict

__all__ = [
    "ROUTES",
    "CrisisDetector",
    "CrisisSimilarity",
    "DosingDetector",
    "Guardrails",
    "MedicalAdviceDetector",
    "Policy",
    "PolicyError",
    "Resource",
    "ScopeDetector",
    "Verdict",
    "find_dose_amounts",
    "load_policy",
    "normalize",
    "render",
]


def __getattr__(name: str) -> object:
    """Import ``CrisisSimilarity`` (and numpy) only when it is used."""
    if name == "CrisisSimilarity":
        from .similarity import CrisisSimilarity

        return CrisisSimilarity
    raise AttributeError(f"module 'guardrails' has no attribute {name!r}")
