"""Drift check: compare new data with the reference profile of the data the live model was trained on.

``profile`` builds and validates the reference profile (the training or preprocessing step calls
:func:`drift_check.profile.build_profile` and saves it as JSON); ``stats`` computes PSI and KS; ``check`` reads the
new data and writes the report that decides whether a retraining run starts. docs/retraining.md describes the formats.
"""
