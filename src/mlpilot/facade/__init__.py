"""The parts of the Python facade (:mod:`mlpilot.workspace`), one area each."""
