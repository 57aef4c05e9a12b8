"""Safety guardrails for the patient FAQ assistant.

    >>> import guardrails
    >>> guard = guardrails.Guardrails(guardrails.load_policy())
    >>> guard.run("I want to die. Also how long is a session?").route
    'crisis'

The rule layers import only the standard library and PyYAML. The learned crisis classifier
(``guardrails.risk_model.CrisisClassifier``, numpy) and an embedding function are passed in by the
caller (``bot.assistant``), so no model is loaded here.
"""

from .detectors import CrisisDetector, DosingDetector, MedicalAdviceDetector, ScopeDetector
from .dose import find_dose_amounts
from .engine import Guardrails
from .lexicon import CrisisLexicon
from .normalize import normalize
from .policy import Policy, PolicyError, Resource, load_policy
from .risk import Assessment, RiskDetector
from .verdict import ROUTES, Verdict

__all__ = [
    "ROUTES",
    "Assessment",
    "CrisisDetector",
    "CrisisLexicon",
    "RiskDetector",
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
]

