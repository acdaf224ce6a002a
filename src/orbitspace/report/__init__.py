"""Self-contained HTML reports with their metrics, and the standard analysis of latent codes.

>>> from orbitspace.report import Report
>>> rep = Report("My latents")

:func:`orbitspace.report.analysis.analyze_latents` runs invariance, distortion and probe
diagnostics of raw codes and invariant projections;
:func:`orbitspace.report.analysis.add_analysis_to_report` lays the result out in a report.
"""

from orbitspace.report.document import Report

__all__ = ["Report"]
