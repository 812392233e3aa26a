"""Pipelines above models, recommenders, analysis and evaluation: train (with tuning), demo."""
