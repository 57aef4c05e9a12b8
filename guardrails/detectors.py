"""All four rule detectors in one import (each lives in its own module)."""

from .crisis import CrisisDetector
from .dosing import DosingDetector
from .medical import MedicalAdviceDetector
from .scope import ScopeDetector

__all__ = ["CrisisDetector", "DosingDetector", "MedicalAdviceDetector", "ScopeDetector"]
