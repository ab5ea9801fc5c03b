"""A local interpreter of Amazon States Language: ``execute(definition, input)``."""

from .errors import WorkflowError
from .interpreter import ExecutionResult, RealClock, VirtualClock, execute

__all__ = ["ExecutionResult", "RealClock", "VirtualClock", "WorkflowError", "execute"]
